package dev.saferun.internal.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.ManualClock;
import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Eviction of idle counters never loses a live window. */
class InMemoryStateStoreTest {
  private final ManualClock clock = new ManualClock("2026-01-15T10:00:00Z");
  private final InMemoryStateStore store = new InMemoryStateStore(clock);

  private static Charge one(String user, Window w, long limit) {
    return new Charge(CounterKey.of("t.n", w, "user=" + user, false), BigDecimal.ONE,
        BigDecimal.valueOf(limit), true);
  }

  @Test
  void idlePerUserCountersAreEvictedOnlyAfterTheirWindowIsOver() {
    for (int u = 0; u < 1000; u++) {
      assertThat(store.charge(List.of(one("u" + u, Window.parse("1h"), 5)),
          clock.wallMillis()).isCharged()).isTrue();
    }
    assertThat(store.size()).isEqualTo(1000);
    clock.advance(Duration.ofMinutes(59));
    assertThat(store.size()).isEqualTo(1000);
    assertThat(store.read(one("u7", Window.parse("1h"), 5).key(), clock.wallMillis()))
        .isEqualByComparingTo("1");
    clock.advance(Duration.ofMinutes(3)); // 1h + one bucket (1 min) + margin
    // a read does not keep a counter: nothing charged an hour ago can count any more
    assertThat(store.size()).isZero();
    assertThat(store.read(one("u7", Window.parse("1h"), 5).key(), clock.wallMillis())).isZero();
  }

  @Test
  void aCounterIsKeptUntilItsLastChargeIsOutOfTheWindow() {
    Window hour = Window.parse("1h");
    store.charge(List.of(one("a", hour, 5)), clock.wallMillis());
    clock.advance(Duration.ofMinutes(50));
    store.charge(List.of(one("a", hour, 5)), clock.wallMillis());
    clock.advance(Duration.ofMinutes(50)); // 100 min after the first, 50 after the second
    assertThat(store.size()).isEqualTo(1);
    assertThat(store.read(one("a", hour, 5).key(), clock.wallMillis())).isEqualByComparingTo("1");
    clock.advance(Duration.ofMinutes(11)); // 61 min after the second: past 1h + 1 min bucket
    assertThat(store.size()).isZero();
  }

  @Test
  void idleCountersAreSweptOnTheMaintenanceExecutorNotOnTheCharger() {
    List<Runnable> queued = new ArrayList<>();
    InMemoryStateStore s = new InMemoryStateStore(clock, queued::add);
    for (int u = 0; u < 100; u++) {
      s.charge(List.of(one("u" + u, Window.MINUTE, 5)), clock.wallMillis());
    }
    assertThat(queued).isEmpty(); // no sweep due yet
    clock.advance(Duration.ofMinutes(3));
    assertThat(s.charge(List.of(one("late", Window.MINUTE, 5)), clock.wallMillis())
        .isCharged()).isTrue();
    assertThat(queued).hasSize(1); // handed over, not run by the charging thread
    s.charge(List.of(one("late", Window.MINUTE, 5)), clock.wallMillis());
    assertThat(queued).hasSize(1); // one pending sweep at a time
    queued.get(0).run();
    // the 100 idle counters are gone; "late" is live
    assertThat(s.read(one("u1", Window.MINUTE, 5).key(), clock.wallMillis())).isZero();
    assertThat(s.read(one("late", Window.MINUTE, 5).key(), clock.wallMillis()))
        .isEqualByComparingTo("2");
    clock.advance(Duration.ofSeconds(5)); // less than the sweep interval since the last one
    s.charge(List.of(one("late", Window.MINUTE, 5)), clock.wallMillis());
    assertThat(queued).hasSize(1);
    clock.advance(Duration.ofSeconds(6));
    s.charge(List.of(one("late2", Window.MINUTE, 5)), clock.wallMillis());
    assertThat(queued).hasSize(2);
    queued.get(1).run();
    clock.advance(Duration.ofSeconds(11)); // "late2" was created after that sweep was handed over
    s.charge(List.of(one("late", Window.MINUTE, 50)), clock.wallMillis());
    assertThat(queued).hasSize(3);
    queued.get(2).run();
    clock.advance(Duration.ofSeconds(11)); // no counter created since: the map has not grown
    s.charge(List.of(one("late", Window.MINUTE, 50)), clock.wallMillis());
    assertThat(queued).hasSize(3);
    s.charge(List.of(one("late3", Window.MINUTE, 50)), clock.wallMillis());
    s.charge(List.of(one("late3", Window.MINUTE, 50)), clock.wallMillis());
    assertThat(queued).hasSize(4);
  }

  @Test
  void aWallClockSetBackDoesNotPostponeSweepsByTheCorrection() {
    List<Runnable> queued = new ArrayList<>();
    InMemoryStateStore s = new InMemoryStateStore(clock, queued::add);
    s.charge(List.of(one("a", Window.MINUTE, 5)), clock.wallMillis());
    clock.advance(Duration.ofSeconds(11));
    s.charge(List.of(one("b", Window.MINUTE, 5)), clock.wallMillis());
    assertThat(queued).hasSize(1);
    queued.get(0).run();
    clock.advance(Duration.ofHours(-1)); // NTP corrects the wall clock by an hour
    s.charge(List.of(one("c", Window.MINUTE, 5)), clock.wallMillis());
    s.charge(List.of(one("d", Window.MINUTE, 5)), clock.wallMillis());
    assertThat(queued).hasSize(2); // not an hour and ten seconds later
    queued.get(1).run();
    clock.advance(Duration.ofSeconds(5)); // then the usual interval again
    s.charge(List.of(one("e", Window.MINUTE, 5)), clock.wallMillis());
    assertThat(queued).hasSize(2);
  }

  @Test
  void aRefusingExecutorKeepsCountersAndChargesStillWork() {
    InMemoryStateStore s = new InMemoryStateStore(clock, r -> {
      throw new java.util.concurrent.RejectedExecutionException("shut down");
    });
    for (int i = 0; i < 3; i++) {
      clock.advance(Duration.ofMinutes(3));
      assertThat(s.charge(List.of(one("x", Window.MINUTE, 5)), clock.wallMillis()).isCharged())
          .isTrue();
    }
    assertThat(s.read(one("x", Window.MINUTE, 5).key(), clock.wallMillis()))
        .isEqualByComparingTo("1");
  }

  /**
   * Sweeps racing with charges of counters that have just gone idle: every charge either lands
   * in the old slot before the sweep looks at it (which makes it live again) or in a new slot
   * after the old one is retired; none is lost in a dropped slot, so every counter reaches its
   * limit exactly and refuses the next charge.
   */
  @Test
  void sweepsRacingWithChargesNeverLoseACharge() throws Exception {
    Window w = Window.parse("10s");
    int threads = 3;
    int keys = 300;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads + 1);
    try {
      for (int round = 0; round < 100; round++) {
        clock.advance(Duration.ofSeconds(11)); // everything from earlier rounds is idle
        long now = clock.wallMillis();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean charging =
            new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicInteger refused =
            new java.util.concurrent.atomic.AtomicInteger();
        List<java.util.concurrent.Future<?>> chargers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int offset = t * keys / threads;
          chargers.add(pool.submit(() -> {
            go.await();
            for (int i = 0; i < keys; i++) {
              Charge c = one("k" + (i + offset) % keys, w, threads);
              if (!store.charge(List.of(c), now).isCharged()) {
                refused.incrementAndGet();
              }
            }
            return null;
          }));
        }
        java.util.concurrent.Future<?> sweeper = pool.submit(() -> {
          go.await();
          while (charging.get()) {
            store.sweep(now);
          }
          return null;
        });
        go.countDown();
        for (java.util.concurrent.Future<?> f : chargers) {
          f.get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        charging.set(false);
        sweeper.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(refused.get()).as("round %d", round).isZero();
        for (int k = 0; k < keys; k++) {
          Charge c = one("k" + k, w, threads);
          assertThat(store.read(c.key(), now)).as("round %d key %d", round, k)
              .isEqualByComparingTo(BigDecimal.valueOf(threads));
          assertThat(store.charge(List.of(c), now).isCharged()).isFalse();
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aCounterInUseIsNeverDropped() {
    Window day = Window.DAY;
    for (int i = 0; i < 48; i++) {
      ChargeResult r = store.charge(List.of(one("busy", day, 1_000_000)), clock.wallMillis());
      assertThat(r.isCharged()).isTrue();
      clock.advance(Duration.ofMinutes(20));
    }
    // 16 hours of use, all within 2026-01-15 and 2026-01-16: value is today's count exactly
    long today = 0;
    long now = clock.wallMillis();
    for (int i = 0; i < 48; i++) {
      long t = Window.DAY.bucketOf(now - (48 - i) * 20L * 60_000L);
      if (t == Window.DAY.bucketOf(now)) {
        today++;
      }
    }
    assertThat(store.read(one("busy", day, 1).key(), now)).isEqualByComparingTo(
        BigDecimal.valueOf(today));
  }

  @Test
  void refundTakesBackFromTheBucketTheChargeWentInto() {
    Window w = Window.parse("10m");
    ChargeResult first = store.charge(List.of(one("a", w, 10)), clock.wallMillis());
    clock.advance(Duration.ofMinutes(5));
    store.charge(List.of(one("a", w, 10)), clock.wallMillis());
    store.refund(first.receipt());
    assertThat(store.read(one("a", w, 10).key(), clock.wallMillis())).isEqualByComparingTo("1");
    clock.advance(Duration.ofMinutes(6)); // the second charge (at +5m) is still in the window
    assertThat(store.read(one("a", w, 10).key(), clock.wallMillis())).isEqualByComparingTo("1");
  }

  @Test
  void severalChargesOfOneCounterInOneCallAreCheckedTogether() {
    Charge c = one("x", Window.DAY, 3);
    Charge twice = new Charge(c.key(), new BigDecimal("2"), BigDecimal.valueOf(3), true);
    assertThat(store.charge(List.of(twice, twice), clock.wallMillis()).refusedIndex()).isEqualTo(1);
    assertThat(store.read(c.key(), clock.wallMillis())).isEqualByComparingTo("0");
  }

  @Test
  void everyLimitSeesTheCallsTotalForItsCounter() {
    // team lte 100 and company lte 1000 on one counter: 60 + 60 in one call must be refused
    CounterKey k = CounterKey.of("refund.daily", Window.DAY, "", false);
    Charge team = new Charge(k, new BigDecimal("60"), new BigDecimal("100"), true);
    Charge company = new Charge(k, new BigDecimal("60"), new BigDecimal("1000"), true);
    assertThat(store.charge(List.of(team, company), clock.wallMillis()).refusedIndex()).isZero();
    assertThat(store.charge(List.of(company, team), clock.wallMillis()).refusedIndex())
        .isEqualTo(1);
    assertThat(store.read(k, clock.wallMillis())).isEqualByComparingTo("0");
  }

  @Test
  void aSingleChargeIsRefusedWholeAtItsLimitAndChargesNothing() {
    Charge c = one("solo", Window.MINUTE, 2);
    assertThat(store.charge(List.of(c), clock.wallMillis()).isCharged()).isTrue();
    ChargeResult second = store.charge(List.of(c), clock.wallMillis());
    assertThat(second.isCharged()).isTrue();
    assertThat(second.receipt().entries()).singleElement()
        .satisfies(e -> assertThat(e.amount()).isEqualByComparingTo("1"));
    assertThat(store.charge(List.of(c), clock.wallMillis()).refusedIndex()).isZero();
    assertThat(store.read(c.key(), clock.wallMillis())).isEqualByComparingTo("2");
  }

  @Test
  void aCounterReadsWithoutANegativeScaleWhateverTheAmountsScale() {
    // 1E+3 (scale -3) is how exact JSON reads 1e3: the counter still reads "1000"
    CounterKey k = CounterKey.of("t.total", Window.DAY, "", false);
    store.charge(List.of(new Charge(k, new BigDecimal("1E+3"), null, true)), clock.wallMillis());
    assertThat(store.read(k, clock.wallMillis()).toString()).isEqualTo("1000");
    store.charge(List.of(new Charge(k, new BigDecimal("0.5"), null, true)), clock.wallMillis());
    assertThat(store.read(k, clock.wallMillis()).toString()).isEqualTo("1000.5");
  }

  /**
   * The exact interleaving the retire flag exists for: a charge has looked its slot up and waits
   * for the slot's lock while a sweep drops the slot. The charge must start again with a new slot
   * instead of counting into the dropped one, for a single charge and for a multi-counter call.
   */
  @Test
  void aChargeThatFindsItsSlotDroppedWhileWaitingStartsAgain() throws Exception {
    Window w = Window.MINUTE;
    for (boolean several : new boolean[] {false, true}) {
      Charge c = one(several ? "multi" : "single", w, 10);
      Charge other = one(several ? "multi-b" : "unused", w, 10);
      store.charge(List.of(c), clock.wallMillis());
      clock.advance(Duration.ofMinutes(3)); // idle now
      long now = clock.wallMillis();
      InMemoryStateStore.Slot old = store.slots.get(c.key().storageKey());
      old.lock.lock();
      java.util.concurrent.FutureTask<ChargeResult> charge = new java.util.concurrent.FutureTask<>(
          () -> store.charge(several ? List.of(c, other) : List.of(c), now));
      Thread t = new Thread(charge);
      try {
        t.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!old.lock.hasQueuedThreads()) { // the charge holds the old slot and waits
          assertThat(System.nanoTime()).as("charge never reached the lock").isLessThan(deadline);
          Thread.onSpinWait();
        }
        assertThat(store.sweep(now)).isGreaterThanOrEqualTo(1); // re-entrant tryLock succeeds
        assertThat(old.retired).isTrue();
      } finally {
        old.lock.unlock();
      }
      assertThat(charge.get(10, java.util.concurrent.TimeUnit.SECONDS).isCharged()).isTrue();
      assertThat(store.slots.get(c.key().storageKey())).isNotSameAs(old);
      assertThat(store.read(c.key(), now)).as(several ? "multi" : "single")
          .isEqualByComparingTo("1");
    }
  }

  @Test
  void recordAttemptReturnsThePriorCount() {
    CounterKey k = CounterKey.of("t._loop", Window.parse("1m"), "", false);
    assertThat(store.recordAttempt(k, clock.wallMillis())).isZero();
    assertThat(store.recordAttempt(k, clock.wallMillis())).isEqualTo(1);
    clock.advance(Duration.ofSeconds(62));
    assertThat(store.recordAttempt(k, clock.wallMillis())).isZero();
  }
}
