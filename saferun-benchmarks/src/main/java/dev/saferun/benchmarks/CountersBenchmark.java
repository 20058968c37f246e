package dev.saferun.benchmarks;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.spi.StateStore;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Distinct per-user counters ({@code rate_limit: {limit: 1000000/minute, per: [user]}}), in
 * memory: the decision cost when calls rotate over {@code users} users, each with its own
 * counter; the heap each live counter takes; and eviction. Time stands still while measuring, so
 * every counter stays live; at the end the clock moves past the window and one more call lets
 * the store drop the idle counters (swept on the calling thread here, so the heap after eviction
 * is measured once the sweep is done). {@link #evictIdleCounters} times the call that finds the
 * idle counters: with {@code sweep=background} (the default store) it hands the sweep to the
 * store's maintenance thread and returns; with {@code sweep=caller} the sweep runs inside the
 * call, which measures the sweep itself (work the maintenance thread does). Heap figures go to
 * {@code <saferun.bench.out>/counters-<users>.json} (default {@code target/jmh-results}).
 *
 * <p>JMH states, one instance per trial; not thread-safe outside JMH's use of them.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms3g", "-Xmx3g"})
public class CountersBenchmark {
  static final String POLICY = "version: \"1\"\ntools:\n  search:\n    rules:\n"
      + "      - name: searches per user\n"
      + "        rate_limit: {limit: 1000000/minute, per: [user]}\n";
  /** Past the minute window's retention (one window plus one bucket). */
  static final long IDLE_MILLIS = TimeUnit.MINUTES.toMillis(3);

  static ToolCall[] calls(int users) {
    ToolCall[] calls = new ToolCall[users];
    for (int i = 0; i < users; i++) {
      calls[i] = ToolCall.of("search", "{}", CallContext.of("user", "user-" + i));
    }
    return calls;
  }

  /** Heap in use after full collections. */
  static long usedHeap() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Calls rotating over {@code users} users on a SafeRun whose clock stands still. */
  @State(Scope.Benchmark)
  public static class Users {
    /** Distinct users, hence distinct live counters. */
    @Param({"1", "1000", "100000", "1000000"})
    public int users;

    Support.ManualClock clock;
    SafeRun safeRun;
    ToolCall[] calls;
    int next;
    long baseline;
    long populated;

    /** Charges every user's counter once and measures the heap they take. */
    @Setup(Level.Trial)
    public void setUp() {
      calls = calls(users);
      clock = new Support.ManualClock();
      safeRun = Support.safeRun(Support.policy(POLICY, "users.yaml"), clock,
          StateStore.inMemory(clock, Runnable::run));
      safeRun.evaluate(ToolCall.of("search", "{}", CallContext.of("user", "warm-up")));
      baseline = usedHeap();
      for (ToolCall c : calls) {
        StripeDecisionBenchmark.check(safeRun.evaluate(c).isAllowed(), "users: denied");
      }
      populated = usedHeap();
    }

    /** Lets the counters go idle, triggers eviction, records the heap figures. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      clock.advance(IDLE_MILLIS);
      safeRun.evaluate(ToolCall.of("search", "{}", CallContext.of("user", "after-idle")));
      long evicted = usedHeap();
      Path out = Path.of(System.getProperty("saferun.bench.out", "target/jmh-results"));
      Files.createDirectories(out);
      Files.writeString(out.resolve("counters-" + users + ".json"), String.format(
          "{\"users\":%d,\"heapBaseline\":%d,\"heapPopulated\":%d,\"heapAfterEviction\":%d,"
              + "\"bytesPerCounter\":%.1f,\"bytesLeftAfterEviction\":%d}%n", users, baseline,
          populated, evicted, (populated - baseline) / (double) users, evicted - baseline),
          StandardCharsets.UTF_8);
    }
  }

  /** One decision for the next user in rotation (each user has a live counter). */
  @Benchmark
  public Decision perUserCounters(Users s) {
    ToolCall c = s.calls[s.next];
    s.next = s.next + 1 == s.calls.length ? 0 : s.next + 1;
    return s.safeRun.evaluate(c);
  }

  /** {@code users} idle counters, past their window; one call away from eviction. */
  @State(Scope.Benchmark)
  public static class Idle {
    /** Idle counters to evict. */
    @Param({"100000", "1000000"})
    public int users;

    /**
     * Where the sweep runs: {@code background} on the store's maintenance thread (the default),
     * {@code caller} inside the call that triggers it.
     */
    @Param({"background", "caller"})
    public String sweep;

    SafeRun safeRun;
    final ToolCall newcomer = ToolCall.of("search", "{}", CallContext.of("user", "newcomer"));

    /** A fresh SafeRun with {@code users} counters, then time moves past their window. */
    @Setup(Level.Iteration)
    public void setUp() {
      Support.ManualClock clock = new Support.ManualClock();
      safeRun = Support.safeRun(Support.policy(POLICY, "idle.yaml"), clock,
          sweep.equals("caller") ? StateStore.inMemory(clock, Runnable::run) : null);
      for (ToolCall c : calls(users)) {
        safeRun.evaluate(c);
      }
      clock.advance(IDLE_MILLIS);
    }

    /** Drops the SafeRun. */
    @TearDown(Level.Iteration)
    public void tearDown() {
      safeRun = null;
    }
  }

  /**
   * The call that finds {@code users} idle counters expired: hands the sweep over
   * ({@code background}) or sweeps them ({@code caller}).
   */
  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 1)
  @Measurement(iterations = 3)
  public Decision evictIdleCounters(Idle s) {
    return s.safeRun.evaluate(s.newcomer);
  }
}
