package dev.saferun.internal.state;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.saferun.Clock;
import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeReceipt;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStore;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Counters in this JVM. Each counter is a slot with its own lock; a call's charges lock their
 * slots in key order (no deadlock), check every limit, then add every amount, so charging is
 * all-or-nothing and exact under any interleaving. Slots live in a Caffeine cache that expires a
 * slot one window (plus one bucket) after its last use, measured on the injected clock: an idle
 * per-user counter is dropped only once nothing in it can count any more. An evicted slot is
 * marked retired under its lock, and a charge that finds a retired slot starts again, so no
 * charge ever lands in a dropped slot. Thread-safe.
 */
public final class InMemoryStateStore implements StateStore {
  private final Cache<String, Slot> slots;

  public InMemoryStateStore(Clock clock) {
    this.slots = Caffeine.newBuilder()
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.wallMillis()))
        .executor(Runnable::run)
        .expireAfter(new Expiry<String, Slot>() {
          @Override
          public long expireAfterCreate(String key, Slot slot, long now) {
            return slot.retentionNanos;
          }

          @Override
          public long expireAfterUpdate(String key, Slot slot, long now, long current) {
            return slot.retentionNanos;
          }

          @Override
          public long expireAfterRead(String key, Slot slot, long now, long current) {
            return slot.retentionNanos;
          }
        })
        .evictionListener((String key, Slot slot, com.github.benmanes.caffeine.cache.RemovalCause
            cause) -> {
          if (slot != null) {
            slot.retire();
          }
        })
        .build();
  }

  /** Number of live counter slots (for tests and sizing). */
  public long size() {
    slots.cleanUp();
    return slots.estimatedSize();
  }

  @Override
  public ChargeResult charge(List<Charge> charges, long nowMillis) {
    int n = charges.size();
    if (n == 0) {
      return ChargeResult.charged(ChargeReceipt.NONE);
    }
    if (n == 1) {
      return chargeOne(charges.get(0), nowMillis);
    }
    while (true) {
      // A call has a handful of counters: small arrays, not maps. distinct[] holds the slots
      // in key order (the global lock order); slotOf[i] is the index in distinct of charge i.
      Slot[] distinct = new Slot[n];
      String[] distinctKeys = new String[n];
      int[] slotOf = new int[n];
      int d = 0;
      for (int i = 0; i < n; i++) {
        CounterKey key = charges.get(i).key();
        String k = key.storageKey();
        int at = 0;
        while (at < d && !distinctKeys[at].equals(k)) {
          at++;
        }
        if (at == d) {
          distinctKeys[d] = k;
          distinct[d] = slot(key);
          d++;
        }
        slotOf[i] = at;
      }
      int[] order = new int[d];
      for (int i = 0; i < d; i++) {
        int j = i;
        while (j > 0 && distinctKeys[order[j - 1]].compareTo(distinctKeys[i]) > 0) {
          order[j] = order[j - 1];
          j--;
        }
        order[j] = i;
      }
      int locked = 0;
      try {
        boolean retired = false;
        for (int o = 0; o < d; o++) {
          Slot s = distinct[order[o]];
          s.lock.lock();
          locked++;
          if (s.retired) {
            retired = true;
            break;
          }
        }
        if (retired) {
          continue;
        }
        // Pass 1, in order: the first charge whose running value passes its limit is refused.
        // (Running values are kept only when a counter is charged more than once.)
        BigDecimal[] running = d < n ? new BigDecimal[d] : null;
        for (int i = 0; i < n; i++) {
          Charge c = charges.get(i);
          int slot = slotOf[i];
          BigDecimal before = running == null || running[slot] == null
              ? distinct[slot].sum(nowMillis) : running[slot];
          BigDecimal next = before.add(c.amount());
          if (!within(c, next)) {
            return ChargeResult.refused(i);
          }
          if (running != null) {
            running[slot] = next;
          }
        }
        // Pass 2: every limit also holds for the counter's value after all of this call's
        // charges, so several charges of one counter can never pass a limit together. With one
        // charge per counter that value is the one pass 1 checked.
        if (running != null) {
          for (int i = 0; i < n; i++) {
            if (!within(charges.get(i), running[slotOf[i]])) {
              return ChargeResult.refused(i);
            }
          }
        }
        ChargeReceipt.Entry[] entries = new ChargeReceipt.Entry[n];
        for (int i = 0; i < n; i++) {
          Charge c = charges.get(i);
          distinct[slotOf[i]].add(nowMillis, c.amount());
          entries[i] = new ChargeReceipt.Entry(c.key(), c.amount(), nowMillis);
        }
        return ChargeResult.charged(new ChargeReceipt(List.of(entries)));
      } finally {
        for (int o = 0; o < locked; o++) {
          distinct[order[o]].lock.unlock();
        }
      }
    }
  }

  /** The common case (a rate limit, one counter): no arrays, one lock. */
  private ChargeResult chargeOne(Charge c, long nowMillis) {
    while (true) {
      Slot s = slot(c.key());
      s.lock.lock();
      try {
        if (s.retired) {
          continue;
        }
        if (!within(c, s.sum(nowMillis).add(c.amount()))) {
          return ChargeResult.refused(0);
        }
        s.add(nowMillis, c.amount());
      } finally {
        s.lock.unlock();
      }
      return ChargeResult.charged(new ChargeReceipt(List.of(
          new ChargeReceipt.Entry(c.key(), c.amount(), nowMillis))));
    }
  }

  /** The live slot of a counter, created if absent (no capturing lambda when present). */
  private Slot slot(CounterKey key) {
    Slot s = slots.getIfPresent(key.storageKey());
    return s != null ? s : slots.get(key.storageKey(), k -> new Slot(key.window()));
  }

  /** Whether a counter may reach {@code value} under this charge's limit. */
  private static boolean within(Charge c, BigDecimal value) {
    if (c.limit() == null) {
      return true;
    }
    int cmp = value.compareTo(c.limit());
    return c.inclusive() ? cmp <= 0 : cmp < 0;
  }

  @Override
  public void refund(ChargeReceipt receipt) {
    for (ChargeReceipt.Entry e : receipt.entries()) {
      Slot s = slots.getIfPresent(e.key().storageKey());
      if (s == null) {
        continue; // expired: the charge no longer counts anyway
      }
      s.lock.lock();
      try {
        if (!s.retired) {
          s.subtract(e.chargedAtMillis(), e.amount());
        }
      } finally {
        s.lock.unlock();
      }
    }
  }

  @Override
  public BigDecimal read(CounterKey key, long nowMillis) {
    Slot s = slots.getIfPresent(key.storageKey());
    if (s == null) {
      return BigDecimal.ZERO;
    }
    s.lock.lock();
    try {
      return s.retired ? BigDecimal.ZERO : s.sum(nowMillis);
    } finally {
      s.lock.unlock();
    }
  }

  @Override
  public long recordAttempt(CounterKey key, long nowMillis) {
    while (true) {
      Slot s = slots.get(key.storageKey(), k -> new Slot(key.window()));
      s.lock.lock();
      try {
        if (s.retired) {
          continue;
        }
        long before = s.sum(nowMillis).longValue();
        s.add(nowMillis, BigDecimal.ONE);
        return before;
      } finally {
        s.lock.unlock();
      }
    }
  }

  /**
   * One counter: the live buckets of its window, oldest first. Guarded by {@link #lock}. Holds
   * only buckets that received charges, so an idle or fixed-window counter costs two entries.
   */
  static final class Slot {
    final ReentrantLock lock = new ReentrantLock();
    final Window window;
    final long retentionNanos;
    long[] ids = new long[2];
    BigDecimal[] sums = new BigDecimal[2];
    int count;
    boolean retired;

    Slot(Window window) {
      this.window = window;
      this.retentionNanos = TimeUnit.MILLISECONDS.toNanos(window.retentionMillis());
    }

    void retire() {
      lock.lock();
      try {
        retired = true;
      } finally {
        lock.unlock();
      }
    }

    private void prune(long nowMillis) {
      long oldest = window.oldestLiveBucket(nowMillis);
      int drop = 0;
      while (drop < count && ids[drop] < oldest) {
        drop++;
      }
      if (drop > 0) {
        System.arraycopy(ids, drop, ids, 0, count - drop);
        System.arraycopy(sums, drop, sums, 0, count - drop);
        Arrays.fill(sums, count - drop, count, null);
        count -= drop;
      }
    }

    BigDecimal sum(long nowMillis) {
      prune(nowMillis);
      long newest = window.bucketOf(nowMillis);
      BigDecimal total = null;
      for (int i = 0; i < count; i++) {
        if (ids[i] <= newest) {
          total = total == null ? sums[i] : total.add(sums[i]);
        }
      }
      // As ZERO.add(...) would: never a negative scale (1E+3 reads as 1000).
      return total == null ? BigDecimal.ZERO : total.scale() < 0 ? total.setScale(0) : total;
    }

    void add(long nowMillis, BigDecimal amount) {
      prune(nowMillis);
      long b = window.bucketOf(nowMillis);
      int i = find(b);
      if (i >= 0) {
        sums[i] = sums[i].add(amount);
        return;
      }
      int at = -i - 1;
      if (count == ids.length) {
        ids = Arrays.copyOf(ids, count * 2);
        sums = Arrays.copyOf(sums, count * 2);
      }
      System.arraycopy(ids, at, ids, at + 1, count - at);
      System.arraycopy(sums, at, sums, at + 1, count - at);
      ids[at] = b;
      sums[at] = amount;
      count++;
    }

    void subtract(long chargedAtMillis, BigDecimal amount) {
      int i = find(window.bucketOf(chargedAtMillis));
      if (i >= 0) {
        BigDecimal v = sums[i].subtract(amount);
        sums[i] = v.signum() < 0 ? BigDecimal.ZERO : v;
      }
    }

    private int find(long bucket) {
      return Arrays.binarySearch(ids, 0, count, bucket);
    }
  }
}
