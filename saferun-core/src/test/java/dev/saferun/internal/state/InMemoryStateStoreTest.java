package dev.saferun.internal.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.ManualClock;
import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import java.math.BigDecimal;
import java.time.Duration;
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
    assertThat(store.size()).isEqualTo(1); // only u7, read at 59 min, is still retained
    clock.advance(Duration.ofMinutes(62));
    assertThat(store.size()).isZero();
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

  @Test
  void recordAttemptReturnsThePriorCount() {
    CounterKey k = CounterKey.of("t._loop", Window.parse("1m"), "", false);
    assertThat(store.recordAttempt(k, clock.wallMillis())).isZero();
    assertThat(store.recordAttempt(k, clock.wallMillis())).isEqualTo(1);
    clock.advance(Duration.ofSeconds(62));
    assertThat(store.recordAttempt(k, clock.wallMillis())).isZero();
  }
}
