package dev.saferun.benchmarks;

import dev.saferun.Decision;
import dev.saferun.ToolCall;
import java.util.concurrent.TimeUnit;
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
 * One SafeRun decision for the Stripe seed policy ({@code stripe.yaml}, PolicyLayer Intercept's
 * example): arguments parsed from the JSON string included, counters in memory, audit off
 * (measured in {@link AuditBenchmark}). The clock advances one second per decision, so the
 * allowed call stays allowed for ever (60 calls a minute, far below the daily cap).
 *
 * <p>JMH state, one instance per trial; not thread-safe outside JMH's use of it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class StripeDecisionBenchmark {
  private Support.Gate gate;
  private final ToolCall allowed = ToolCall.of("create_charge", Support.ALLOWED_CHARGE_JSON);
  private final ToolCall deniedByArgs = ToolCall.of("create_charge",
      "{\"amount\":90000,\"currency\":\"usd\",\"customer\":\"cus_123\"}");
  private final ToolCall unlisted = ToolCall.of("drop_database", "{\"name\":\"prod\"}");

  /** Builds the SafeRun and checks that each call gets the decision its name says. */
  @Setup
  public void setUp() {
    gate = Support.gate(Support.stripePolicy(), null);
    check(gate.decide(allowed).isAllowed(), "the allowed call is not allowed");
    check(gate.decide(deniedByArgs).isDenied(), "the over-limit call is not denied");
    check(gate.decide(unlisted).isDenied(), "the unlisted call is not denied");
  }

  static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("benchmark setup: " + what);
    }
  }

  /** The headline: an allowed create_charge (4 rules, 2 counters charged). */
  @Benchmark
  @BenchmarkMode({Mode.Throughput, Mode.SampleTime})
  public Decision allowedCharge() {
    return gate.decide(allowed);
  }

  /** Denied by the first rule (amount over the single-charge limit). */
  @Benchmark
  public Decision deniedByArgumentRule() {
    return gate.decide(deniedByArgs);
  }

  /** A tool the policy does not list: denied by default. */
  @Benchmark
  public Decision unlistedTool() {
    return gate.decide(unlisted);
  }
}
