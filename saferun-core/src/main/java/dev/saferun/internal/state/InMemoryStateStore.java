package dev.saferun.internal.state;

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
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counters in this JVM. Each counter is a slot with its own lock; a call's charges lock their
 * slots in key order (no deadlock), check every limit, then add every amount, so charging is
 * all-or-nothing and exact under any interleaving.
 *
 * <p>Slots live in a {@link ConcurrentHashMap}; a lookup is one hash probe, with no bookkeeping
 * on the decision path. A slot records the time of its last charge. Idle slots are dropped by a
 * <em>sweep</em>: once {@value #SWEEP_EVERY_MILLIS} ms of clock time have passed since the last
 * one and a counter has been created since (the map grows only then), the next charge hands a
 * sweep to the maintenance executor (a shared daemon thread by default) and goes on; the sweep
 * drops every slot whose last charge is older than its window
 * plus one bucket, when nothing in it can count any more. A dropped slot is marked retired under
 * its lock, and a charge that finds a retired slot starts again with a new one, so no charge
 * ever lands in a dropped slot. Thread-safe.
 */
public final class InMemoryStateStore implements StateStore {
  /** Clock time between two sweeps of idle counters. */
  public static final long SWEEP_EVERY_MILLIS = 10_000L;

  private static final Logger LOG = LoggerFactory.getLogger(InMemoryStateStore.class);

  /** Package-private for tests that interleave a sweep with a charge deterministically. */
  final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();
  private final Clock clock;
  private final Executor maintenance;
  private final AtomicBoolean sweepPending = new AtomicBoolean();
  private volatile long nextSweepMillis;
  /** A slot was created since the last sweep was handed over. */
  private volatile boolean grown;

  /** A store whose sweeps run on a shared daemon thread. */
  public InMemoryStateStore(Clock clock) {
    this(clock, Sweeper.EXECUTOR);
  }

  /**
   * A store whose sweeps run on {@code maintenance} ({@code Runnable::run} sweeps on the charging
   * thread: deterministic, for tests and measurements).
   */
  public InMemoryStateStore(Clock clock, Executor maintenance) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.maintenance = Objects.requireNonNull(maintenance, "maintenance");
    this.nextSweepMillis = clock.wallMillis() + SWEEP_EVERY_MILLIS;
  }

  /** The shared maintenance thread, started on first use. */
  private static final class Sweeper {
    static final ExecutorService EXECUTOR = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "saferun-state-sweeper");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Number of live counter slots, after sweeping those idle at the clock's current time on the
   * calling thread (for tests and sizing).
   */
  public long size() {
    sweep(clock.wallMillis());
    return slots.size();
  }

  /**
   * Drops every slot idle at {@code nowMillis}: last charged more than one window plus one bucket
   * ago. A slot that a charge holds at that moment is skipped (it is in use). Returns the number
   * of slots dropped.
   */
  public int sweep(long nowMillis) {
    int dropped = 0;
    for (Map.Entry<String, Slot> e : slots.entrySet()) {
      Slot s = e.getValue();
      if (!s.lock.tryLock()) {
        continue;
      }
      try {
        if (!s.retired && s.idleAt(nowMillis)) {
          s.retired = true;
          slots.remove(e.getKey(), s);
          dropped++;
        }
      } finally {
        s.lock.unlock();
      }
    }
    return dropped;
  }

  /** Hands a sweep to the maintenance executor when one is due and none is pending. */
  private void sweepIfDue(long nowMillis) {
    long next = nextSweepMillis;
    // Not due yet, unless the clock went back by more than an interval (a corrected wall
    // clock must not postpone sweeps by the size of the correction).
    boolean due = nowMillis >= next || nowMillis < next - SWEEP_EVERY_MILLIS;
    if (!due || !grown || !sweepPending.compareAndSet(false, true)) {
      return;
    }
    grown = false;
    nextSweepMillis = nowMillis + SWEEP_EVERY_MILLIS;
    try {
      maintenance.execute(() -> {
        try {
          sweep(nowMillis);
        } finally {
          sweepPending.set(false);
        }
      });
    } catch (RejectedExecutionException e) {
      sweepPending.set(false);
      grown = true;
      LOG.warn("The maintenance executor refused a sweep of idle counters; idle counters are"
          + " kept until a later sweep runs: {}", e.toString());
    }
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
          distinct[d] = slot(key, nowMillis);
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
        // running[slot]: the counter's value after this call's charges so far.
        BigDecimal[] running = new BigDecimal[d];
        for (int i = 0; i < n; i++) {
          Charge c = charges.get(i);
          int slot = slotOf[i];
          BigDecimal before = running[slot] == null ? distinct[slot].sum(nowMillis)
              : running[slot];
          BigDecimal next = before.add(c.amount());
          if (!within(c, next)) {
            return ChargeResult.refused(i);
          }
          running[slot] = next;
        }
        // Pass 2: every limit also holds for the counter's value after all of this call's
        // charges, so several charges of one counter can never pass a limit together. With one
        // charge per counter that value is the one pass 1 checked.
        if (d < n) {
          for (int i = 0; i < n; i++) {
            if (!within(charges.get(i), running[slotOf[i]])) {
              return ChargeResult.refused(i);
            }
          }
        }
        ChargeReceipt.Entry[] entries = new ChargeReceipt.Entry[n];
        for (int i = 0; i < n; i++) {
          Charge c = charges.get(i);
          if (d == n) {
            distinct[i].add(nowMillis, c.amount(), running[i]);
          } else {
            distinct[slotOf[i]].add(nowMillis, c.amount());
          }
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
      Slot s = slot(c.key(), nowMillis);
      s.lock.lock();
      try {
        if (s.retired) {
          continue;
        }
        if (!s.tryAdd(nowMillis, c)) {
          return ChargeResult.refused(0);
        }
      } finally {
        s.lock.unlock();
      }
      return ChargeResult.charged(new ChargeReceipt(List.of(
          new ChargeReceipt.Entry(c.key(), c.amount(), nowMillis))));
    }
  }

  /**
   * The live slot of a counter, created if absent (no capturing lambda when present); first
   * starts a sweep if one is due.
   */
  private Slot slot(CounterKey key, long nowMillis) {
    sweepIfDue(nowMillis);
    Slot s = slots.get(key.storageKey());
    return s != null ? s : slots.computeIfAbsent(key.storageKey(), k -> {
      grown = true;
      return new Slot(key.window());
    });
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
      Slot s = slots.get(e.key().storageKey());
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
    Slot s = slots.get(key.storageKey());
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
      Slot s = slot(key, nowMillis);
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
    final long retentionMillis;
    long[] ids = new long[2];
    BigDecimal[] sums = new BigDecimal[2];
    int count;
    long lastChargeMillis = Long.MIN_VALUE;
    boolean retired;

    Slot(Window window) {
      this.window = window;
      this.retentionMillis = window.retentionMillis();
    }

    /** Whether nothing charged so far can count at {@code nowMillis} (never charged: idle). */
    boolean idleAt(long nowMillis) {
      return lastChargeMillis == Long.MIN_VALUE || nowMillis - lastChargeMillis >= retentionMillis;
    }

    /** Adds {@code c}'s amount if the counter stays within its limit: one prune, one search. */
    boolean tryAdd(long nowMillis, Charge c) {
      prune(nowMillis);
      long newest = window.bucketOf(nowMillis);
      BigDecimal total = null;
      int at = -1;
      for (int i = 0; i < count; i++) {
        if (ids[i] <= newest) {
          total = total == null ? sums[i] : total.add(sums[i]);
          if (ids[i] == newest) {
            at = i;
          }
        }
      }
      BigDecimal next = total == null ? c.amount() : total.add(c.amount());
      if (!within(c, next)) {
        return false;
      }
      if (at >= 0) {
        // the current bucket alone made the total: its new value is the one just checked
        sums[at] = count == 1 ? next : sums[at].add(c.amount());
        touch(nowMillis);
      } else {
        add(nowMillis, c.amount());
      }
      return true;
    }

    /**
     * Adds {@code amount} knowing the counter's value after it ({@code total}, from
     * {@link #sum} plus {@code amount}): when the current bucket is the only one, it becomes
     * {@code total} without another addition.
     */
    void add(long nowMillis, BigDecimal amount, BigDecimal total) {
      prune(nowMillis);
      if (count == 1 && ids[0] == window.bucketOf(nowMillis)) {
        sums[0] = total;
        touch(nowMillis);
      } else {
        add(nowMillis, amount);
      }
    }

    private void touch(long nowMillis) {
      if (nowMillis > lastChargeMillis) {
        lastChargeMillis = nowMillis;
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
      touch(nowMillis);
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
