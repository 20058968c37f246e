package dev.saferun.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeReceipt;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStore;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The semantics every {@link StateStore} must have (SPEC §4), as JUnit 5 tests. A store proves
 * it by extending this class:
 *
 * <pre>{@code
 * class RedisStateStoreTest extends StateStoreCompatibilityKit {
 *   @Override
 *   protected StateStore createStore(FakeClock clock) {
 *     return RedisStateStore.create(redisUri);        // an empty store (or a fresh key prefix)
 *   }
 * }
 * }</pre>
 *
 * <p>What is checked, one behaviour per test method:
 * <ul>
 *   <li><b>Reads.</b> A counter never charged reads 0; a charge is visible to the next read; a
 *       charge with no limit always succeeds and still counts.
 *   <li><b>Fixed windows</b> ({@code minute}, {@code hour}, {@code day}) reset at the start of each
 *       UTC minute, hour and day, whenever the first charge was made, and a counter idle for most
 *       of its window is still there.
 *   <li><b>Rolling windows</b> (a duration): a charge counts for at least the window's length
 *       ("never late") and at most one bucket ({@link Window#bucketMillis()}, length / 60)
 *       longer ("early by at most one bucket"); so there is no burst across a boundary, and in a
 *       long simulated run every allowed charge has at most the limit in the window before it.
 *   <li><b>Keys.</b> Counters differing in name, window, {@code per} values or shadow namespace
 *       are independent.
 *   <li><b>Limits.</b> {@code lte} admits the limit exactly, {@code lt} stays below it.
 *   <li><b>All or nothing.</b> A call's charges are charged together or not at all: a refusal
 *       names the index of the first charge that does not fit and charges nothing; several
 *       charges of one counter in one call are checked together; the receipt lists every charge
 *       in request order with the instant it was made.
 *   <li><b>Exact decimals.</b> 0.1 + 0.2 is 0.3; at least 6 fractional digits; large and small
 *       amounts together lose nothing.
 *   <li><b>Refunds</b> take the amount back from the bucket it was charged into, and are a no-op
 *       once that bucket no longer counts.
 *   <li><b>Attempts.</b> {@link StateStore#recordAttempt} returns the number of attempts before
 *       this one in the rolling window.
 *   <li><b>Concurrency.</b> Many threads on one cap charge exactly the cap (integers and
 *       decimals); multi-counter charges stay atomic, whatever order the counters are listed in
 *       (no deadlock); charges with concurrent refunds add up exactly; concurrent attempts each
 *       see a distinct count.
 * </ul>
 *
 * <p>Time: each test gets a fresh {@link FakeClock} at {@link #START} and the store from
 * {@link #createStore}; it moves the clock and passes {@code clock.wallMillis()} as
 * {@code nowMillis}, as SafeRun does, and never sleeps. Every counter a test uses has a name
 * unique to that test ({@code kit<random>.<name>}), so a store backed by a shared server needs no
 * cleanup between tests; {@link #closeStore} is called after each test for stores that hold
 * connections.
 *
 * <p>Not thread-safe: JUnit creates one instance per test method; the concurrency tests start
 * their own threads against {@link #store}.
 */
public abstract class StateStoreCompatibilityKit {
  /** The instant each test's clock starts at: 2026-01-15T10:30:00Z (a Thursday, mid-morning). */
  protected static final Instant START = Instant.parse("2026-01-15T10:30:00Z");

  /** Threads used by the concurrency tests. */
  protected static final int THREADS = 16;

  /** A rolling window of 60 s, in buckets of 1 s. */
  private static final Window SIXTY_SECONDS = Window.parse("60s");

  /** The clock of the current test; {@link #createStore} receives it. */
  protected FakeClock clock;

  /** The store under test, from {@link #createStore}. */
  protected StateStore store;

  private final String scope = "kit" + UUID.randomUUID().toString().replace("-", "");

  /**
   * A new, empty store for one test. A store that reads time for housekeeping (eviction) must
   * read {@code clock}; its answers must depend only on the {@code nowMillis} passed to it.
   */
  protected abstract StateStore createStore(FakeClock clock);

  /** Releases what {@link #createStore} opened (connections, pools). Default: nothing. */
  protected void closeStore(StateStore store) throws Exception {
    // nothing to release by default
  }

  /** Creates this test's clock and store. */
  @BeforeEach
  public final void createStoreForTest() {
    clock = new FakeClock(START);
    store = createStore(clock);
    assertThat(store).as("createStore(clock) returned null").isNotNull();
  }

  /** Closes this test's store. */
  @AfterEach
  public final void closeStoreAfterTest() throws Exception {
    if (store != null) {
      closeStore(store);
    }
  }

  // ================================================================== reads

  @Test
  public void aCounterNeverChargedReadsZero() {
    assertThat(read(key("never", Window.DAY))).as("SPEC §4.2: a counter never charged reads 0")
        .isEqualByComparingTo("0");
    assertThat(read(key("never", SIXTY_SECONDS))).isEqualByComparingTo("0");
  }

  @Test
  public void aChargeIsVisibleToTheNextRead() {
    CounterKey k = key("visible", Window.DAY);

    assertCharged(charge(c(k, "3", "10")));
    assertCharged(charge(c(k, "4", "10")));

    assertThat(read(k)).isEqualByComparingTo("7");
  }

  @Test
  public void aChargeWithoutALimitAlwaysSucceedsAndStillCounts() {
    CounterKey k = key("unlimited", Window.HOUR);

    for (int i = 0; i < 5; i++) {
      assertCharged(charge(unlimited(k, "1000000")));
    }

    assertThat(read(k)).as("SPEC §9: counters with no limiting condition still count")
        .isEqualByComparingTo("5000000");
  }

  @Test
  public void theReceiptListsEveryChargeInRequestOrderWithItsInstant() {
    CounterKey a = key("a", Window.DAY);
    CounterKey b = key("b", SIXTY_SECONDS);
    clock.advance(Duration.ofMillis(1234));

    ChargeResult r = charge(c(a, "2.5", "10"), unlimited(b, "1"), c(a, "0.5", "10"));

    assertCharged(r);
    assertThat(r.receipt().entries()).containsExactly(
        new ChargeReceipt.Entry(a, new BigDecimal("2.5"), now()),
        new ChargeReceipt.Entry(b, new BigDecimal("1"), now()),
        new ChargeReceipt.Entry(a, new BigDecimal("0.5"), now()));
  }

  // ================================================================== fixed windows

  @Test
  public void aMinuteWindowResetsAtTheStartOfTheUtcMinuteNotAMinuteAfterTheFirstCharge() {
    CounterKey k = key("per_minute", Window.MINUTE);
    at("2026-01-15T10:30:30Z");
    assertCharged(charge(unlimited(k, "1")));

    at("2026-01-15T10:30:59.999Z");
    assertThat(read(k)).as("still 10:30").isEqualByComparingTo("1");
    at("2026-01-15T10:31:00Z");
    assertThat(read(k)).as("SPEC §4.1: fixed windows reset at the start of each UTC minute")
        .isEqualByComparingTo("0");
  }

  @Test
  public void anHourWindowResetsAtTheStartOfTheUtcHour() {
    CounterKey k = key("per_hour", Window.HOUR);
    assertCharged(charge(unlimited(k, "5")));

    at("2026-01-15T10:59:59.999Z");
    assertThat(read(k)).isEqualByComparingTo("5");
    at("2026-01-15T11:00:00Z");
    assertThat(read(k)).as("SPEC §4.1: fixed windows reset at the start of each UTC hour")
        .isEqualByComparingTo("0");
  }

  @Test
  public void aDayWindowResetsAtUtcMidnight() {
    CounterKey k = key("per_day", Window.DAY);
    assertCharged(charge(unlimited(k, "5")));

    at("2026-01-15T23:59:59.999Z");
    assertThat(read(k)).isEqualByComparingTo("5");
    at("2026-01-16T00:00:00Z");
    assertThat(read(k)).as("SPEC §4.1: fixed windows reset at the start of each UTC day")
        .isEqualByComparingTo("0");
  }

  @Test
  public void aDayCounterIdleForMostOfTheDayIsStillThere() {
    CounterKey k = key("idle_day", Window.DAY);
    at("2026-01-15T00:00:00.001Z");
    assertCharged(charge(unlimited(k, "8")));

    at("2026-01-15T23:59:59.999Z");

    assertThat(read(k)).as("a counter must not be dropped while its window still counts it")
        .isEqualByComparingTo("8");
  }

  @Test
  public void aFixedLimitAdmitsExactlyTheLimitAndAgainInTheNextWindow() {
    CounterKey k = key("three", Window.MINUTE);

    for (int i = 0; i < 3; i++) {
      assertCharged(charge(c(k, "1", "3")));
    }
    assertThat(charge(c(k, "1", "3")).refusedIndex()).isEqualTo(0);
    assertThat(read(k)).isEqualByComparingTo("3");

    clock.advance(Duration.ofMinutes(1));
    assertCharged(charge(c(k, "1", "3")));
    assertThat(read(k)).isEqualByComparingTo("1");
  }

  @Test
  public void lteAdmitsTheLimitAndLtStaysBelowIt() {
    CounterKey inclusive = key("lte", Window.DAY);
    CounterKey exclusive = key("lt", Window.DAY);

    assertCharged(charge(c(inclusive, "10", "10")));
    assertThat(charge(new Charge(exclusive, BigDecimal.TEN, BigDecimal.TEN, false)).isCharged())
        .as("lt 10: a charge reaching 10 does not fit").isFalse();
    assertCharged(charge(new Charge(exclusive, new BigDecimal("9.999999"), BigDecimal.TEN,
        false)));
  }

  // ================================================================== rolling windows

  @Test
  public void aRollingChargeCountsForTheWholeWindowAndAtMostOneBucketLonger() {
    CounterKey k = key("rolling", SIXTY_SECONDS);
    long bucket = SIXTY_SECONDS.bucketMillis();
    clock.advance(Duration.ofMillis(500)); // mid-bucket
    long t0 = now();
    assertCharged(charge(unlimited(k, "1")));

    clock.set(Instant.ofEpochMilli(t0 + SIXTY_SECONDS.millis() - 1));
    assertThat(read(k)).as("SPEC §4.1: a rolling window is never late; the charge made %d ms"
        + " ago is within the %d ms window", SIXTY_SECONDS.millis() - 1, SIXTY_SECONDS.millis())
        .isEqualByComparingTo("1");
    clock.set(Instant.ofEpochMilli(t0 + SIXTY_SECONDS.millis() + bucket));
    assertThat(read(k)).as("a rolling window may be early by at most one bucket (%d ms)", bucket)
        .isEqualByComparingTo("0");
  }

  @Test
  public void aSevenDayRollingWindowKeepsAnIdleCounter() {
    Window week = Window.parse("7d");
    CounterKey k = key("week", week);
    long t0 = now();
    assertCharged(charge(unlimited(k, "2")));

    clock.set(Instant.ofEpochMilli(t0 + week.millis() - 1));
    assertThat(read(k)).as("a charge 7d - 1 ms ago still counts").isEqualByComparingTo("2");
    clock.set(Instant.ofEpochMilli(t0 + week.millis() + week.bucketMillis()));
    assertThat(read(k)).isEqualByComparingTo("0");
  }

  @Test
  public void aRollingWindowAllowsNoBurstAcrossAMinuteBoundary() {
    CounterKey k = key("burst", SIXTY_SECONDS);
    at("2026-01-15T10:30:59.900Z");
    for (int i = 0; i < 10; i++) {
      assertCharged(charge(c(k, "1", "10")));
    }

    at("2026-01-15T10:31:00.100Z");
    assertThat(charge(c(k, "1", "10")).isCharged())
        .as("rolling 10/60s: ten charges at 10:30:59.900 still count at 10:31:00.100 (a fixed"
            + " minute window would have reset)").isFalse();
    at("2026-01-15T10:31:59.899Z");
    assertThat(charge(c(k, "1", "10")).isCharged()).as("59.999 s later: never late").isFalse();
    clock.set(Instant.parse("2026-01-15T10:31:59.900Z").plusMillis(SIXTY_SECONDS.bucketMillis()));
    assertCharged(charge(c(k, "1", "10")));
  }

  @Test
  public void aRollingLimitHoldsOverEveryIntervalOfTheWindowsLength() {
    Window window = Window.parse("10s");
    long length = window.millis();
    long bucket = window.bucketMillis();
    CounterKey k = key("simulated", window);
    List<Long> allowed = new ArrayList<>();
    List<Long> refused = new ArrayList<>();
    long step = 37; // not a divisor of the bucket, so charges land all over the buckets
    for (int i = 0; i < 2000; i++) {
      clock.advance(Duration.ofMillis(step + (i % 5) * 11));
      if (charge(c(k, "1", "5")).isCharged()) {
        allowed.add(now());
      } else {
        refused.add(now());
      }
    }

    assertThat(allowed).as("the simulation allows calls").hasSizeGreaterThan(40);
    assertThat(refused).as("the simulation reaches the limit").hasSizeGreaterThan(100);
    for (long t : allowed) {
      assertThat(countIn(allowed, t - length + 1, t)).as("SPEC §4.1: allowed charges in the"
          + " %d ms ending at %d (never more than the limit in any window)", length, t)
          .isLessThanOrEqualTo(5);
    }
    for (long t : refused) {
      assertThat(countIn(allowed, t - length - bucket, t)).as("a refusal at %d must be justified"
          + " by the limit's worth of charges within the window plus one bucket (%d ms)", t,
          length + bucket).isGreaterThanOrEqualTo(5);
    }
  }

  // ================================================================== keys

  @Test
  public void countersDifferingInPerValuesAreIndependent() {
    CounterKey u1 = CounterKey.of(scope + ".per_user", Window.DAY, "user=u1", false);
    CounterKey u2 = CounterKey.of(scope + ".per_user", Window.DAY, "user=u2", false);

    assertCharged(charge(c(u1, "3", "3")));
    assertCharged(charge(c(u2, "3", "3")));

    assertThat(read(u1)).isEqualByComparingTo("3");
    assertThat(read(u2)).isEqualByComparingTo("3");
    assertThat(charge(c(u1, "1", "3")).isCharged()).isFalse();
  }

  @Test
  public void countersDifferingInNameWindowOrNamespaceAreIndependent() {
    CounterKey day = key("same", Window.DAY);
    CounterKey hour = key("same", Window.HOUR);
    CounterKey rolling = key("same", Window.parse("24h"));
    CounterKey shadow = CounterKey.of(scope + ".same", Window.DAY, "", true);
    CounterKey other = key("other", Window.DAY);

    assertCharged(charge(unlimited(day, "1")));
    assertCharged(charge(unlimited(hour, "2")));
    assertCharged(charge(unlimited(rolling, "3")));
    assertCharged(charge(unlimited(shadow, "4")));

    assertThat(List.of(read(day), read(hour), read(rolling), read(shadow), read(other)))
        .usingElementComparator(BigDecimal::compareTo)
        .as("day, hour, 24h, shadow day, other name")
        .containsExactly(new BigDecimal("1"), new BigDecimal("2"), new BigDecimal("3"),
            new BigDecimal("4"), BigDecimal.ZERO);
  }

  // ================================================================== all or nothing

  @Test
  public void aRefusedChargeNamesTheFirstThatDoesNotFitAndChargesNothing() {
    CounterKey a = key("a", Window.DAY);
    CounterKey b = key("b", Window.DAY);
    CounterKey c = key("c", Window.HOUR);
    CounterKey d = key("d", Window.DAY);
    assertCharged(charge(unlimited(b, "2")));

    ChargeResult r = charge(c(a, "1", "10"), c(b, "2", "3"), unlimited(c, "5"),
        c(d, "9", "1"));

    assertThat(r.isCharged()).isFalse();
    assertThat(r.refusedIndex()).as("SPEC §4.2: the first charge over its limit").isEqualTo(1);
    assertThat(r.receipt()).isNull();
    assertThat(List.of(read(a), read(b), read(c), read(d)))
        .usingElementComparator(BigDecimal::compareTo)
        .as("SPEC §4.2: either every counter is charged or none is")
        .containsExactly(BigDecimal.ZERO, new BigDecimal("2"), BigDecimal.ZERO, BigDecimal.ZERO);
  }

  @Test
  public void severalChargesOfOneCounterInOneCallAreCheckedTogether() {
    CounterKey k = key("twice", Window.DAY);

    ChargeResult over = charge(c(k, "6", "10"), c(k, "6", "10"));
    assertThat(over.refusedIndex()).as("6 fits, 6 + 6 does not").isEqualTo(1);
    assertThat(read(k)).isEqualByComparingTo("0");

    ChargeResult unlimitedFirst = charge(unlimited(k, "6"), c(k, "6", "10"));
    assertThat(unlimitedFirst.refusedIndex()).isEqualTo(1);
    assertThat(read(k)).isEqualByComparingTo("0");

    assertCharged(charge(c(k, "5", "10"), c(k, "5", "10")));
    assertThat(read(k)).isEqualByComparingTo("10");
  }

  @Test
  public void anEmptyChargeSucceedsWithAnEmptyReceipt() {
    ChargeResult r = store.charge(List.of(), now());

    assertThat(r.isCharged()).isTrue();
    assertThat(r.receipt().isEmpty()).isTrue();
  }

  // ================================================================== exact decimals

  @Test
  public void decimalsAreExact() {
    CounterKey k = key("decimal", Window.DAY);

    assertCharged(charge(c(k, "0.1", "0.3")));
    assertCharged(charge(c(k, "0.2", "0.3")));

    assertThat(read(k)).as("SPEC §4.1: amounts are exact decimals: 0.1 + 0.2 == 0.3")
        .isEqualByComparingTo("0.3");
    assertThat(charge(c(k, "0.000001", "0.3")).isCharged()).as("0.3 + 0.000001 > 0.3")
        .isFalse();
  }

  @Test
  public void sixFractionalDigitsAreKept() {
    CounterKey k = key("micro", Window.DAY);

    for (int i = 0; i < 3; i++) {
      assertCharged(charge(c(k, "0.000001", "0.000003")));
    }

    assertThat(read(k)).isEqualByComparingTo("0.000003");
    assertThat(charge(c(k, "0.000001", "0.000003")).isCharged()).isFalse();
  }

  @Test
  public void largeAndSmallAmountsTogetherLoseNothing() {
    CounterKey k = key("large", Window.DAY);

    assertCharged(charge(unlimited(k, "1000000000000")));
    assertCharged(charge(unlimited(k, "0.000001")));

    assertThat(read(k)).isEqualByComparingTo("1000000000000.000001");
  }

  @Test
  public void aHundredCentsMakeExactlyOne() {
    CounterKey k = key("cents", Window.DAY);

    for (int i = 0; i < 100; i++) {
      assertCharged(charge(c(k, "0.01", "1")));
    }

    assertThat(read(k)).isEqualByComparingTo("1");
    assertThat(charge(c(k, "0.01", "1")).isCharged()).isFalse();
  }

  // ================================================================== refunds

  @Test
  public void aRefundTakesBackEveryChargeOfItsReceipt() {
    CounterKey a = key("a", Window.DAY);
    CounterKey b = key("b", SIXTY_SECONDS);
    assertCharged(charge(unlimited(a, "1")));
    ChargeResult r = charge(c(a, "2.5", "10"), c(b, "1", "10"));

    store.refund(r.receipt());

    assertThat(read(a)).isEqualByComparingTo("1");
    assertThat(read(b)).isEqualByComparingTo("0");
    assertCharged(charge(c(a, "9", "10")));
  }

  @Test
  public void aRefundGoesBackIntoTheBucketItWasChargedInto() {
    CounterKey k = key("bucketed", SIXTY_SECONDS);
    long t0 = now();
    ChargeResult first = charge(unlimited(k, "5"));
    clock.advance(Duration.ofSeconds(30));
    assertCharged(charge(unlimited(k, "7")));

    store.refund(first.receipt());
    assertThat(read(k)).isEqualByComparingTo("7");

    clock.set(Instant.ofEpochMilli(t0 + SIXTY_SECONDS.millis() + SIXTY_SECONDS.bucketMillis()));
    assertThat(read(k)).as("the refund came out of the first charge's bucket, which has now"
        + " left the window; the second charge still counts in full").isEqualByComparingTo("7");
  }

  @Test
  public void aRefundAfterItsFixedWindowEndedChangesNothing() {
    CounterKey k = key("late_refund", Window.MINUTE);
    at("2026-01-15T10:30:10Z");
    ChargeResult old = charge(unlimited(k, "5"));
    at("2026-01-15T10:31:10Z");
    assertCharged(charge(unlimited(k, "3")));

    store.refund(old.receipt());

    assertThat(read(k)).as("the refunded charge belonged to 10:30, which no longer counts")
        .isEqualByComparingTo("3");
  }

  @Test
  public void aRefundAfterItsRollingWindowEndedChangesNothing() {
    CounterKey k = key("late_rolling_refund", SIXTY_SECONDS);
    ChargeResult old = charge(unlimited(k, "5"));
    clock.advance(Duration.ofMillis(SIXTY_SECONDS.millis() + SIXTY_SECONDS.bucketMillis()));
    assertCharged(charge(unlimited(k, "4")));

    store.refund(old.receipt());

    assertThat(read(k)).isEqualByComparingTo("4");
  }

  // ================================================================== attempts

  @Test
  public void recordAttemptReturnsTheAttemptsBeforeThisOne() {
    CounterKey k = key("loop", SIXTY_SECONDS);
    CounterKey other = key("loop_other", SIXTY_SECONDS);

    assertThat(store.recordAttempt(k, now())).isEqualTo(0);
    assertThat(store.recordAttempt(k, now())).isEqualTo(1);
    clock.advance(Duration.ofSeconds(10));
    assertThat(store.recordAttempt(k, now())).isEqualTo(2);
    assertThat(store.recordAttempt(other, now())).as("another key").isEqualTo(0);
  }

  @Test
  public void attemptsLeaveTheRollingWindowLikeCharges() {
    CounterKey k = key("loop_window", SIXTY_SECONDS);
    long t0 = now();
    store.recordAttempt(k, now());
    store.recordAttempt(k, now());

    clock.set(Instant.ofEpochMilli(t0 + SIXTY_SECONDS.millis() - 1));
    assertThat(store.recordAttempt(k, now())).as("never late").isEqualTo(2);
    clock.set(Instant.ofEpochMilli(t0 + 2 * SIXTY_SECONDS.millis() + SIXTY_SECONDS
        .bucketMillis()));
    assertThat(store.recordAttempt(k, now())).as("all earlier attempts have left the window")
        .isEqualTo(0);
  }

  // ================================================================== concurrency

  @Test
  public void manyThreadsOnOneCapChargeExactlyTheCap() throws Exception {
    CounterKey k = key("contended", Window.DAY);

    int allowed = sum(concurrently(THREADS, () -> {
      int n = 0;
      for (int i = 0; i < 50; i++) {
        if (charge(c(k, "1", "100")).isCharged()) {
          n++;
        }
      }
      return n;
    }));

    assertThat(allowed).as("SPEC §4.2: no interleaving may push a counter past its limit, and"
        + " none may lose a charge: %d threads x 50 calls on a cap of 100", THREADS)
        .isEqualTo(100);
    assertThat(read(k)).isEqualByComparingTo("100");
  }

  @Test
  public void manyThreadsChargingCentsReachTheCapExactly() throws Exception {
    CounterKey k = key("contended_cents", Window.parse("1h"));

    int allowed = sum(concurrently(THREADS, () -> {
      int n = 0;
      for (int i = 0; i < 20; i++) {
        if (charge(c(k, "0.01", "1.00")).isCharged()) {
          n++;
        }
      }
      return n;
    }));

    assertThat(allowed).isEqualTo(100);
    assertThat(read(k)).isEqualByComparingTo("1");
  }

  @Test
  public void multiCounterChargesStayAtomicInAnyOrderUnderContention() throws Exception {
    CounterKey capped = key("capped", Window.DAY);
    CounterKey follower = key("follower", Window.DAY);
    CounterKey roomy = key("roomy", Window.HOUR);

    List<Integer> perThread = concurrently(THREADS, () -> {
      int n = 0;
      for (int i = 0; i < 40; i++) {
        // Half the calls list the counters in the opposite order: a store that locks in request
        // order deadlocks here (and the test times out).
        List<Charge> charges = new ArrayList<>(List.of(c(capped, "1", "60"),
            unlimited(follower, "1"), c(roomy, "1", "100000")));
        if (i % 2 == 1) {
          Collections.reverse(charges);
        }
        if (store.charge(charges, now()).isCharged()) {
          n++;
        }
      }
      return n;
    });

    assertThat(sum(perThread)).isEqualTo(60);
    assertThat(List.of(read(capped), read(follower), read(roomy)))
        .usingElementComparator(BigDecimal::compareTo)
        .as("every counter of an allowed call is charged, none of a refused one")
        .containsExactly(new BigDecimal("60"), new BigDecimal("60"), new BigDecimal("60"));
  }

  @Test
  public void perKeyCapsUnderContentionAreEachExact() throws Exception {
    List<CounterKey> users = new ArrayList<>();
    for (int u = 0; u < 4; u++) {
      users.add(CounterKey.of(scope + ".per_user_cap", Window.DAY, "user=u" + u, false));
    }

    concurrently(THREADS, () -> {
      for (int i = 0; i < 40; i++) {
        charge(c(users.get(i % users.size()), "1", "25"));
      }
      return 0;
    });

    for (CounterKey u : users) {
      assertThat(read(u)).as(u.per()).isEqualByComparingTo("25");
    }
  }

  @Test
  public void chargesWithConcurrentRefundsAddUpExactly() throws Exception {
    CounterKey k = key("churn", Window.DAY);

    List<int[]> counts = concurrently(THREADS, () -> {
      int charged = 0;
      int refunded = 0;
      for (int i = 0; i < 50; i++) {
        ChargeResult r = charge(c(k, "1", "50"));
        if (r.isCharged()) {
          charged++;
          if (i % 3 == 0) {
            store.refund(r.receipt());
            refunded++;
          }
        }
      }
      return new int[] {charged, refunded};
    });

    int charged = 0;
    int refunded = 0;
    for (int[] c : counts) {
      charged += c[0];
      refunded += c[1];
    }
    assertThat(read(k)).as("%d charged - %d refunded", charged, refunded)
        .isEqualByComparingTo(BigDecimal.valueOf(charged - refunded));
    assertThat(read(k)).isLessThanOrEqualTo(new BigDecimal("50"));
  }

  @Test
  public void concurrentAttemptsEachSeeADistinctCount() throws Exception {
    CounterKey k = key("loop_contended", Window.parse("5m"));
    int each = 25;

    List<List<Long>> seen = concurrently(THREADS, () -> {
      List<Long> mine = new ArrayList<>();
      for (int i = 0; i < each; i++) {
        mine.add(store.recordAttempt(k, now()));
      }
      return mine;
    });

    List<Long> all = new ArrayList<>();
    seen.forEach(all::addAll);
    Long[] expected = new Long[THREADS * each];
    Arrays.setAll(expected, i -> (long) i);
    assertThat(all).as("each attempt counts the attempts before it, atomically")
        .containsExactlyInAnyOrder(expected);
  }

  // ================================================================== helpers

  /** A counter unique to this test: {@code kit<random>.<counter>}, not split, enforced. */
  protected final CounterKey key(String counter, Window window) {
    return CounterKey.of(scope + "." + counter, window, "", false);
  }

  /** A charge of {@code amount} with limit {@code lte limit}. */
  protected static Charge c(CounterKey key, String amount, String limit) {
    return new Charge(key, new BigDecimal(amount), new BigDecimal(limit), true);
  }

  /** A charge of {@code amount} with no limit. */
  protected static Charge unlimited(CounterKey key, String amount) {
    return new Charge(key, new BigDecimal(amount), null, true);
  }

  /** Charges at the clock's current time. */
  protected final ChargeResult charge(Charge... charges) {
    return store.charge(List.of(charges), now());
  }

  /** Reads at the clock's current time. */
  protected final BigDecimal read(CounterKey key) {
    return store.read(key, now());
  }

  /** The clock's wall time, what SafeRun passes as {@code nowMillis}. */
  protected final long now() {
    return clock.wallMillis();
  }

  /** Sets the clock to an ISO-8601 instant. */
  protected final void at(String instant) {
    clock.set(Instant.parse(instant));
  }

  private static void assertCharged(ChargeResult r) {
    assertThat(r.isCharged()).as("charged (refused index %d)", r.refusedIndex()).isTrue();
    assertThat(r.receipt()).isNotNull();
  }

  private static long countIn(List<Long> times, long from, long to) {
    return times.stream().filter(t -> t >= from && t <= to).count();
  }

  private static int sum(List<Integer> values) {
    return values.stream().mapToInt(Integer::intValue).sum();
  }

  /**
   * Runs {@code task} on {@code threads} threads released together by a latch, and returns each
   * thread's result. Fails (instead of hanging) if a thread takes more than a minute.
   */
  private static <T> List<T> concurrently(int threads, Callable<T> task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch ready = new CountDownLatch(threads);
    CountDownLatch go = new CountDownLatch(1);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        futures.add(pool.submit(() -> {
          ready.countDown();
          go.await();
          return task.call();
        }));
      }
      assertThat(ready.await(60, TimeUnit.SECONDS)).as("threads started").isTrue();
      go.countDown();
      List<T> results = new ArrayList<>();
      for (Future<T> f : futures) {
        results.add(f.get(60, TimeUnit.SECONDS));
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }
}
