package dev.saferun.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.saferun.Decision;
import dev.saferun.ToolCall;
import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStore;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The rate-limit step: "may this call go, and count it", always allowed (a limit of 1,000,000 a
 * minute; time moves one millisecond per call, 60,000 calls a simulated minute).
 * SafeRun's in-memory {@link StateStore} charging one counter (what a {@code rate_limit} rule
 * costs inside a decision), Bucket4j's local bucket ({@code tryConsume(1)}, lock-free) and
 * Resilience4j's {@code AtomicRateLimiter} ({@code acquirePermission()}); Bucket4j the way per-user
 * limits are usually kept in one JVM, a bucket per key in a Caffeine cache that drops idle ones
 * (what SafeRun's store does for its counters); plus a whole SafeRun
 * decision whose only rule is that rate limit. SafeRun and Bucket4j read the same kind of clock,
 * which each operation steps once; Resilience4j reads {@code System.nanoTime} itself and cannot
 * take a clock, so it gets a limit it never reaches.
 *
 * <p>JMH state, one instance per trial; not thread-safe outside JMH's use of it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class RateLimitBenchmark {
  static final long LIMIT = 1_000_000L;

  /** One clock for SafeRun's store and Bucket4j's buckets: 1 ms per operation. */
  private final Support.SteppingClock clock = new Support.SteppingClock(1L);
  private StateStore store;
  private List<Charge> charge;
  private Bucket bucket;
  private Cache<String, Bucket> buckets;
  private final Function<String, Bucket> newBucket = key -> bucket();
  private RateLimiter resilience4j;
  private Support.Gate gate;
  private final ToolCall search = ToolCall.of("search", "{}");

  /** Bucket4j's view of the benchmark clock. */
  static final class ClockTimeMeter implements TimeMeter {
    private final Support.SteppingClock clock;

    ClockTimeMeter(Support.SteppingClock clock) {
      this.clock = clock;
    }

    @Override
    public long currentTimeNanos() {
      return TimeUnit.MILLISECONDS.toNanos(clock.wallMillis());
    }

    @Override
    public boolean isWallClockBased() {
      return true;
    }
  }

  /** Builds the three limiters and the SafeRun; checks each allows. */
  @Setup
  public void setUp() {
    store = StateStore.inMemory(clock);
    charge = List.of(new Charge(CounterKey.of("search._rate_minute", Window.MINUTE, "", false),
        BigDecimal.ONE, BigDecimal.valueOf(LIMIT), true));
    bucket = bucket();
    buckets = Caffeine.newBuilder().expireAfterAccess(Duration.ofMinutes(2)).build();
    resilience4j = RateLimiter.of("bench", RateLimiterConfig.custom()
        .limitForPeriod(Integer.MAX_VALUE)
        .limitRefreshPeriod(Duration.ofSeconds(1))
        .timeoutDuration(Duration.ZERO)
        .build());
    Support.SteppingClock decisionClock = new Support.SteppingClock(1L);
    gate = new Support.Gate(Support.safeRun(Support.policy("version: \"1\"\ntools:\n"
        + "  search:\n    rules:\n      - name: search rate\n        rate_limit: " + LIMIT
        + "/minute\n", "rate.yaml"), decisionClock, null), decisionClock);
    for (int i = 0; i < 200; i++) {
      StripeDecisionBenchmark.check(saferunStoreCharge().isCharged(), "SafeRun refused");
      StripeDecisionBenchmark.check(bucket4jTryConsume(), "Bucket4j refused");
      StripeDecisionBenchmark.check(bucket4jPerKeyTryConsume(), "Bucket4j per key refused");
      StripeDecisionBenchmark.check(resilience4jAcquire(), "Resilience4j refused");
      StripeDecisionBenchmark.check(saferunRateLimitDecision().isAllowed(), "decision denied");
    }
  }

  /** SafeRun's step: one counter, checked against its limit and charged atomically. */
  @Benchmark
  public ChargeResult saferunStoreCharge() {
    return store.charge(charge, clock.step());
  }

  /** Bucket4j: one token from a local lock-free bucket. */
  @Benchmark
  public boolean bucket4jTryConsume() {
    clock.step();
    return bucket.tryConsume(1);
  }

  /** Bucket4j per key: the key's bucket from a Caffeine cache, then one token. */
  @Benchmark
  public boolean bucket4jPerKeyTryConsume() {
    clock.step();
    return buckets.get("search._rate_minute", newBucket).tryConsume(1);
  }

  private Bucket bucket() {
    return Bucket.builder()
        .addLimit(limit -> limit.capacity(LIMIT).refillGreedy(LIMIT, Duration.ofMinutes(1)))
        .withCustomTimePrecision(new ClockTimeMeter(clock))
        .build();
  }

  /** Resilience4j: one permission from an AtomicRateLimiter, no waiting. */
  @Benchmark
  public boolean resilience4jAcquire() {
    return resilience4j.acquirePermission();
  }

  /** A whole SafeRun decision whose only rule is the rate limit (arguments {@code {}}). */
  @Benchmark
  public Decision saferunRateLimitDecision() {
    return gate.decide(search);
  }
}
