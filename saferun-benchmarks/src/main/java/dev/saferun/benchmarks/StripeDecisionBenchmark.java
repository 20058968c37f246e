package dev.saferun.benchmarks;

import dev.saferun.Clock;
import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 * One SafeRun decision for the Stripe seed policy, arguments parsed from the JSON string
 * included, audit off (measured separately). JMH state; not for use outside JMH (not thread-safe by design). The clock advances one second per read pair, so the
 * allowed path stays allowed for ever: 60 calls per minute and far less than the daily cap.
 *
 * <p>Run: {@code ./mvnw -B -q -pl saferun-benchmarks -am package -DskipTests && java -jar
 * saferun-benchmarks/target/benchmarks.jar StripeDecision -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.SampleTime, Mode.Throughput})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class StripeDecisionBenchmark {
  private SafeRun safeRun;
  private final ToolCall allowed = ToolCall.of("create_charge",
      "{\"amount\":1,\"currency\":\"usd\",\"customer\":\"cus_123\",\"description\":\"order 42\"}");
  private final ToolCall deniedByArgs = ToolCall.of("create_charge",
      "{\"amount\":90000,\"currency\":\"usd\",\"customer\":\"cus_123\"}");
  private final ToolCall unlisted = ToolCall.of("drop_database", "{\"name\":\"prod\"}");

  /** Wall time moves one second per decision (each decision reads wall time once). */
  static final class SteppingClock implements Clock {
    private final AtomicLong millis = new AtomicLong(1_767_225_600_000L); // 2026-01-01T00:00Z

    @Override
    public long wallMillis() {
      return millis.addAndGet(1000L);
    }

    @Override
    public long monotonicNanos() {
      return 0L;
    }
  }

  @Setup
  public void setUp() throws IOException {
    String yaml;
    try (InputStream in = StripeDecisionBenchmark.class.getResourceAsStream("/stripe.yaml")) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    safeRun = SafeRun.builder()
        .policies(PolicySet.of(PolicyLoader.loadString(yaml, "stripe.yaml")))
        .clock(new SteppingClock())
        .auditSink(AuditSink.NONE)
        .build();
    if (!safeRun.evaluate(allowed).isAllowed()) {
      throw new IllegalStateException("benchmark setup: the allowed call is not allowed");
    }
  }

  @Benchmark
  public Decision allowedCharge() {
    return safeRun.evaluate(allowed);
  }

  @Benchmark
  public Decision deniedByArgumentRule() {
    return safeRun.evaluate(deniedByArgs);
  }

  @Benchmark
  public Decision unlistedTool() {
    return safeRun.evaluate(unlisted);
  }
}
