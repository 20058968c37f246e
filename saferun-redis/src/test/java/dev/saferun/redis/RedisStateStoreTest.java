package dev.saferun.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeReceipt;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStoreException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * SPEC §4 counter semantics on a real Redis, store level: windows, per keys, all-or-nothing,
 * exact decimals, refunds, loop attempts, TTLs and key prefixes. (saferun-test has no
 * StateStoreCompatibilityKit yet; these mirror what it is meant to check.)
 */
@Timeout(60)
class RedisStateStoreTest {
  private static final long T0 = Instant.parse("2026-01-15T10:30:00Z").toEpochMilli();
  private static final CounterKey DAY = CounterKey.of("refund.daily_total", Window.DAY, "", false);
  private static final CounterKey COUNT = CounterKey.of("refund.daily_count", Window.DAY, "", false);

  private TestRedis redis;
  private String prefix;
  private RedisStateStore store;
  private final List<RedisStateStore> opened = new ArrayList<>();

  @BeforeEach
  void open(TestInfo info) {
    redis = TestRedis.shared();
    prefix = TestRedis.uniquePrefix(info.getTestMethod().orElseThrow().getName());
    store = open(prefix);
  }

  private RedisStateStore open(String keyPrefix) {
    RedisStateStore s = RedisStateStore.builder(redis.uri()).keyPrefix(keyPrefix)
        .commandTimeout(TestRedis.RELAXED).build();
    opened.add(s);
    return s;
  }

  @AfterEach
  void close() {
    opened.forEach(RedisStateStore::close);
  }

  private static Charge lte(CounterKey key, String amount, String limit) {
    return new Charge(key, new BigDecimal(amount), limit == null ? null : new BigDecimal(limit),
        true);
  }

  private static Charge lt(CounterKey key, String amount, String limit) {
    return new Charge(key, new BigDecimal(amount), new BigDecimal(limit), false);
  }

  private ChargeResult charge(long now, Charge... charges) {
    return store.charge(List.of(charges), now);
  }

  @Test
  void aCounterThatWasNeverChargedReadsZero() {
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("0");
  }

  @Test
  void lteAllowsUpToTheLimitAndLtStaysBelowIt() {
    CounterKey calls = CounterKey.of("t.calls", Window.MINUTE, "", false);
    CounterKey other = CounterKey.of("t.other", Window.MINUTE, "", false);
    for (int i = 0; i < 10; i++) {
      assertThat(charge(T0, lte(calls, "1", "10")).isCharged()).isTrue();
    }
    assertThat(charge(T0, lte(calls, "1", "10")).isCharged()).isFalse();
    for (int i = 0; i < 9; i++) {
      assertThat(charge(T0, lt(other, "1", "10")).isCharged()).isTrue();
    }
    assertThat(charge(T0, lt(other, "1", "10")).isCharged()).isFalse();
  }

  @Test
  void amountsAreExactDecimals600Then400ThenNothingMore() {
    assertThat(charge(T0, lte(DAY, "600", "1000")).isCharged()).isTrue();
    assertThat(charge(T0, lte(DAY, "400", "1000")).isCharged()).isTrue();
    assertThat(charge(T0, lte(DAY, "0.000001", "1000")).isCharged()).isFalse();
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("1000");
  }

  @Test
  void tenthsAddUpExactlyWhereDoublesWouldNot() {
    for (int i = 0; i < 10; i++) {
      assertThat(charge(T0, lte(DAY, "0.1", "1")).isCharged()).isTrue();
    }
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("1");
    assertThat(charge(T0, lte(DAY, "0.000001", "1")).isCharged()).isFalse();
    assertThat(charge(T0, lte(DAY, "0", "1")).isCharged()).isTrue();
  }

  @Test
  void valuesFarBeyondTwoToThe53StayExact() {
    // 2^53 is about 9.007e15; scaled by 10^6 these are ~1e26 and ~1e32.
    String big = "123456789012345678901.123456";
    assertThat(charge(T0, lte(DAY, big, null)).isCharged()).isTrue();
    assertThat(charge(T0, lte(DAY, big, null)).isCharged()).isTrue();
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("246913578024691357802.246912");
    String limit = "246913578024691357803.246912";
    assertThat(charge(T0, lte(DAY, "1", limit)).isCharged()).isTrue();
    assertThat(charge(T0, lte(DAY, "0.000001", limit)).isCharged()).isFalse();
    ChargeResult r = charge(T0, lte(DAY, "99999999999999999999999999.999999", null));
    assertThat(r.isCharged()).isTrue();
    store.refund(r.receipt());
    assertThat(store.read(DAY, T0)).isEqualByComparingTo(limit);
  }

  @Test
  void anAmountWithMoreFractionalDigitsThanConfiguredIsRefusedWithAClearError() {
    assertThatThrownBy(() -> charge(T0, lte(DAY, "0.0000001", "10")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Amount 0.0000001 for counter refund.daily_total has more than 6 "
            + "fractional digits");
    // trailing zeros beyond the scale are not extra digits
    assertThat(charge(T0, lte(DAY, "1.50000000", "10")).isCharged()).isTrue();
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("1.5");
  }

  @Test
  void aLimitWithMoreDigitsThanTheScaleIsComparedExactly() {
    // values are multiples of 0.000001: "lte 1.0000005" admits 1.000000, "lt 1.0000005" too.
    assertThat(charge(T0, lte(DAY, "1", "1.0000005")).isCharged()).isTrue();
    assertThat(charge(T0, lte(DAY, "0.000001", "1.0000005")).isCharged()).isFalse();
    assertThat(charge(T0, lt(COUNT, "1", "1.0000005")).isCharged()).isTrue();
    assertThat(charge(T0, lt(COUNT, "0.000001", "1.0000005")).isCharged()).isFalse();
    CounterKey zero = CounterKey.of("t.z", Window.DAY, "", false);
    assertThat(charge(T0, lt(zero, "0", "0")).isCharged()).isFalse();
    assertThat(charge(T0, lte(zero, "0", "0")).isCharged()).isTrue();
    assertThat(charge(T0, lte(zero, "0", "-1")).isCharged()).isFalse();
  }

  @Test
  void moreFractionDigitsCanBeConfiguredPerDeployment() {
    RedisStateStore fine = RedisStateStore.builder(redis.uri()).keyPrefix(prefix + "8:")
        .fractionDigits(8).build();
    opened.add(fine);
    assertThat(fine.charge(List.of(lte(DAY, "0.00000001", "0.00000002")), T0).isCharged())
        .isTrue();
    assertThat(fine.read(DAY, T0)).isEqualByComparingTo("0.00000001");
  }

  @Test
  void replicasConfiguredWithDifferentScalesRefuseToShareAPrefix() {
    charge(T0, lte(DAY, "1", null));
    RedisStateStore other = RedisStateStore.builder(redis.uri()).keyPrefix(prefix)
        .fractionDigits(2).build();
    opened.add(other);
    assertThatThrownBy(() -> other.read(DAY, T0)).isInstanceOf(StateStoreException.class)
        .hasMessageContaining("holds amounts with 6 fractional digits, but this replica is "
            + "configured with 2");
  }

  @Test
  void allOrNothingTheFirstRefusedChargeIsNamedAndNothingIsCharged() {
    charge(T0, lte(COUNT, "5", "5"));
    ChargeResult r = charge(T0, lte(DAY, "100", "1000"), lte(COUNT, "1", "5"),
        lte(CounterKey.of("x.y", Window.HOUR, "", false), "1", "0"));
    assertThat(r.isCharged()).isFalse();
    assertThat(r.refusedIndex()).isEqualTo(1);
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("0");
    assertThat(store.read(COUNT, T0)).isEqualByComparingTo("5");
  }

  @Test
  void severalChargesOfOneCounterInOneCallCountTogether() {
    ChargeResult r = charge(T0, lte(DAY, "600", "1000"), lte(DAY, "500", "1000"));
    assertThat(r.refusedIndex()).isEqualTo(1);
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("0");
    r = charge(T0, lte(DAY, "600", "1000"), lte(DAY, "400", "1000"));
    assertThat(r.isCharged()).isTrue();
    assertThat(r.receipt().entries()).hasSize(2);
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("1000");
  }

  @Test
  void eachLimitIsCheckedAgainstTheValueAfterAllOfTheCallsChargesToItsCounter() {
    // the second charge has no limit, but it would push the counter past the first one's
    ChargeResult r = charge(T0, lte(DAY, "5", "7"), lte(DAY, "5", null));
    assertThat(r.refusedIndex()).isEqualTo(0);
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("0");
    assertThat(charge(T0, lte(DAY, "3", "7"), lte(DAY, "4", null)).isCharged()).isTrue();
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("7");
  }

  @Test
  void perKeysAndShadowCountersAreSeparateCounters() {
    CounterKey u1 = CounterKey.of("refund.daily_total", Window.DAY, "user=u1", false);
    CounterKey u2 = CounterKey.of("refund.daily_total", Window.DAY, "user=u2", false);
    CounterKey shadow = CounterKey.of("refund.daily_total", Window.DAY, "user=u1", true);
    charge(T0, lte(u1, "7", null));
    charge(T0, lte(u2, "3", null));
    charge(T0, lte(shadow, "1", null));
    assertThat(store.read(u1, T0)).isEqualByComparingTo("7");
    assertThat(store.read(u2, T0)).isEqualByComparingTo("3");
    assertThat(store.read(shadow, T0)).isEqualByComparingTo("1");
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("0");
  }

  @Test
  void fixedWindowsResetAtTheirUtcBoundary() {
    long endOfDay = Instant.parse("2026-01-15T23:59:59.999Z").toEpochMilli();
    long midnight = endOfDay + 1;
    CounterKey minute = CounterKey.of("t.m", Window.MINUTE, "", false);
    CounterKey hour = CounterKey.of("t.h", Window.HOUR, "", false);
    charge(endOfDay, lte(DAY, "5", null), lte(minute, "5", null), lte(hour, "5", null));
    assertThat(store.read(DAY, endOfDay)).isEqualByComparingTo("5");
    assertThat(store.read(DAY, midnight)).isEqualByComparingTo("0");
    assertThat(store.read(minute, midnight)).isEqualByComparingTo("0");
    assertThat(store.read(hour, midnight)).isEqualByComparingTo("0");
    assertThat(charge(midnight, lte(DAY, "10", "10")).isCharged()).isTrue();
  }

  @Test
  void aRollingWindowNeverAllowsMoreThanTheLimitInAnyIntervalOfItsLength() {
    // 60s window: 60 buckets of 1s. 5 per rolling minute.
    CounterKey rolling = CounterKey.of("t.r", Window.parse("60s"), "", false);
    long t = T0;
    for (int i = 0; i < 5; i++) {
      assertThat(charge(t + i * 10_000L, lte(rolling, "1", "5")).isCharged()).isTrue();
    }
    // t+40s holds 5 charges made at t..t+40s
    assertThat(charge(t + 59_999L, lte(rolling, "1", "5")).isCharged()).isFalse();
    // at t+60s the first charge's bucket still overlaps the window (deny early, never late)
    assertThat(charge(t + 60_000L, lte(rolling, "1", "5")).isCharged()).isFalse();
    // at t+61s it has left the window
    assertThat(charge(t + 61_000L, lte(rolling, "1", "5")).isCharged()).isTrue();
    assertThat(charge(t + 61_000L, lte(rolling, "1", "5")).isCharged()).isFalse();
    assertThat(store.read(rolling, t + 61_000L)).isEqualByComparingTo("5");
    // long after, everything has left
    assertThat(store.read(rolling, t + 200_000L)).isEqualByComparingTo("0");
  }

  @Test
  void aRollingWindowMayDenyUpToOneBucketEarlyNeverLate() {
    CounterKey rolling = CounterKey.of("t.r", Window.parse("60s"), "", false);
    long t = T0 + 500; // the middle of a 1s bucket
    assertThat(charge(t, lte(rolling, "1", "1")).isCharged()).isTrue();
    // 60s after the charge it still counts (its bucket overlaps the window start): early deny
    assertThat(charge(t + 60_000L, lte(rolling, "1", "1")).isCharged()).isFalse();
    // once its whole bucket is out of the window it no longer counts
    assertThat(charge(T0 + 61_000L, lte(rolling, "1", "1")).isCharged()).isTrue();
  }

  @Test
  void aChargeFromAReplicaWhoseClockRunsAheadCountsForTheOthersToo() {
    CounterKey rolling = CounterKey.of("t.r", Window.parse("60s"), "", false);
    assertThat(charge(T0 + 5_000L, lte(rolling, "1", "1")).isCharged()).isTrue();
    // a replica 5s behind sees the charge in a "future" bucket and still counts it
    assertThat(store.read(rolling, T0)).isEqualByComparingTo("1");
    assertThat(charge(T0, lte(rolling, "1", "1")).isCharged()).isFalse();
  }

  @Test
  void aRefundTakesTheChargesBackAllOfThem() {
    ChargeResult r = charge(T0, lte(DAY, "250.25", "1000"), lte(COUNT, "1", "3"));
    charge(T0, lte(DAY, "100", "1000"));
    store.refund(r.receipt());
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("100");
    assertThat(store.read(COUNT, T0)).isEqualByComparingTo("0");
    // a refund never takes a counter below zero, even if replayed
    store.refund(r.receipt());
    assertThat(store.read(COUNT, T0)).isEqualByComparingTo("0");
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("0");
  }

  @Test
  void aRefundGoesToTheBucketTheChargeWentInto() {
    CounterKey rolling = CounterKey.of("t.r", Window.parse("60s"), "", false);
    ChargeResult first = charge(T0, lte(rolling, "1", "2"));
    charge(T0 + 30_000L, lte(rolling, "1", "2"));
    store.refund(first.receipt());
    assertThat(store.read(rolling, T0 + 30_000L)).isEqualByComparingTo("1");
    // the later charge is still there once the first's bucket has left the window
    assertThat(store.read(rolling, T0 + 61_000L)).isEqualByComparingTo("1");
  }

  @Test
  void aRefundOfAnExpiredChargeChangesNothing() {
    ChargeResult r = charge(T0, lte(DAY, "10", null));
    long tomorrow = T0 + 86_400_000L;
    charge(tomorrow, lte(DAY, "3", null));
    store.refund(r.receipt());
    assertThat(store.read(DAY, tomorrow)).isEqualByComparingTo("3");
    store.refund(ChargeReceipt.NONE);
  }

  @Test
  void recordAttemptReturnsTheAttemptsBeforeThisOneWithinTheRollingWindow() {
    CounterKey loop = CounterKey.of("search.loop", Window.parse("10m"), "args=abc", false);
    assertThat(store.recordAttempt(loop, T0)).isZero();
    assertThat(store.recordAttempt(loop, T0 + 1_000)).isEqualTo(1);
    assertThat(store.recordAttempt(loop, T0 + 2_000)).isEqualTo(2);
    assertThat(store.recordAttempt(loop, T0 + 11 * 60_000L)).isZero();
    // attempts are not counter values: a counter with the same storage key is untouched
    assertThat(store.read(loop, T0 + 11 * 60_000L)).isEqualByComparingTo("0");
  }

  @Test
  void idleCountersExpireByThemselvesTtlCoversTheWindowPlusTheSkewAllowance() {
    CounterKey rolling = CounterKey.of("t.r", Window.parse("10m"), "", false);
    long now = System.currentTimeMillis();
    charge(now, lte(DAY, "1", null), lte(rolling, "1", null));
    long dayEnd = (Math.floorDiv(now, 86_400_000L) + 1) * 86_400_000L;
    long dayTtl = redis.admin().pttl(prefix + "c:" + DAY.storageKey());
    // the skew allowance (2 s) and the 1 s by which a time to live grows when it must
    assertThat(dayTtl).isPositive().isLessThanOrEqualTo(dayEnd - now + 3_000)
        .isGreaterThan(dayEnd - now + 3_000 - 10_000);
    long rollingTtl = redis.admin().pttl(prefix + "c:" + rolling.storageKey());
    // 10m window, 10s buckets: the charge counts until its bucket leaves the window
    assertThat(rollingTtl).isGreaterThan(600_000L).isLessThanOrEqualTo(613_000L);
    store.recordAttempt(CounterKey.of("a.loop", Window.parse("30s"), "", false), now);
    assertThat(redis.admin().pttl(prefix + "l:a.loop|30s|")).isPositive()
        .isLessThanOrEqualTo(33_500L);
  }

  @Test
  void aLaterChargeNeverShortensAKeysTimeToLive() {
    CounterKey rolling = CounterKey.of("t.r", Window.parse("10m"), "", false);
    long now = System.currentTimeMillis();
    charge(now, lte(rolling, "1", null));
    long before = redis.admin().pttl(prefix + "c:" + rolling.storageKey());
    // a replica whose clock is a minute behind charges the same counter
    charge(now - 60_000L, lte(rolling, "1", null));
    assertThat(redis.admin().pttl(prefix + "c:" + rolling.storageKey()))
        .isGreaterThan(before - 5_000);
  }

  @Test
  void deploymentsWithDifferentPrefixesShareNothing() {
    RedisStateStore other = open(prefix + "other:");
    charge(T0, lte(DAY, "5", null));
    assertThat(other.read(DAY, T0)).isEqualByComparingTo("0");
    RedisStateStore sameDeployment = open(prefix);
    assertThat(sameDeployment.read(DAY, T0)).isEqualByComparingTo("5");
    assertThat(redis.admin().exists(prefix + "c:" + DAY.storageKey())).isEqualTo(1);
  }

  @Test
  void sixteenThreadsOnOneCapChargeExactlyTheCap() throws Exception {
    int threads = 16;
    AtomicInteger allowed = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        fs.add(pool.submit(() -> {
          go.await();
          for (int i = 0; i < 100; i++) {
            if (charge(T0, lte(DAY, "0.01", "10"), lte(COUNT, "1", null)).isCharged()) {
              allowed.incrementAndGet();
            }
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(allowed.get()).isEqualTo(1000);
    assertThat(store.read(DAY, T0)).isEqualByComparingTo("10");
    assertThat(store.read(COUNT, T0)).isEqualByComparingTo("1000");
  }
}
