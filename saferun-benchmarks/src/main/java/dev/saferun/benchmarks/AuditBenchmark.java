package dev.saferun.benchmarks;

import dev.saferun.CallContext;
import dev.saferun.Clock;
import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.FileAuditSink;
import dev.saferun.audit.FsyncPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hash-chained JSON Lines audit sink ({@link FileAuditSink}, default queue and batch, files in
 * {@code java.io.tmpdir}). {@link #sinkSustained}: events queued and written (JSON, sha-256 chain,
 * write, fsync per {@link FsyncPolicy}) end to end, batches of {@value #BATCH} followed by
 * {@code flush()}, so the score is what the writer sustains, not how fast a queue fills.
 * {@link #decisionWithFileAudit}: the allowed Stripe decision with that sink attached, one thread
 * deciding flat out, with a count of decisions the sink refused (queue still full after its
 * one-second wait: fail closed, so the call is denied). {@link #pacedDecisionWithFileAudit} and
 * {@link #pacedDecisionWithoutAudit}: the same decision offered at a fixed rate below the sink's
 * capacity ({@value #PACED_PER_SECOND} a second), latency of the decision alone, with and without
 * the sink: what the sink costs a decision when it keeps up.
 *
 * <p>JMH state, one instance per trial; not thread-safe outside JMH's use of it.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class AuditBenchmark {
  static final int BATCH = 2048;
  /** Offered rate of the paced benchmarks, decisions per second. */
  static final long PACED_PER_SECOND = 100_000;

  /** A sink in a fresh directory, deleted after the trial. */
  @State(Scope.Benchmark)
  public static class Sink {
    /** When the writer forces the file. */
    @Param({"EVERY_BATCH", "NEVER"})
    public String fsync;

    Path dir;
    FileAuditSink sink;
    final AuditEvent[] events = new AuditEvent[BATCH];

    /** Opens the sink and prepares one batch of typical decision events. */
    @Setup(Level.Trial)
    public void open() throws IOException {
      dir = Files.createTempDirectory("saferun-audit-bench");
      sink = FileAuditSink.builder(dir.resolve("audit.jsonl"))
          .fsync(FsyncPolicy.valueOf(fsync))
          .maxFileBytes(64L << 20)
          .clock(new Support.ManualClock())
          .build();
      CallContext ctx = CallContext.of("agent", "support", "user", "u-42", "run", "r-7");
      for (int i = 0; i < BATCH; i++) {
        events[i] = new AuditEvent(Instant.ofEpochMilli(Support.START_MILLIS + i), i,
            AuditEvent.Type.ALLOWED, "create_charge", ctx,
            "{\"amount\":" + i + ",\"currency\":\"usd\",\"customer\":\"cus_123\","
                + "\"description\":\"order 42\"}",
            "9f2c4e1d7a0b3c5e8f6a2d4b1c3e5f7a9b0d2c4e6f8a1b3c5d7e9f0a2b4c6d8e", "stripe",
            "3b1f0c2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a", null, "Allowed",
            null, 1500, null, null, 0, null);
      }
    }

    /** Closes the sink and deletes its files. */
    @TearDown(Level.Trial)
    public void close() throws IOException {
      sink.close();
      deleteTree(dir);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Events per microsecond the sink writes end to end (×10^6 for events/s). */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void sinkSustained(Sink s) throws IOException {
    for (AuditEvent e : s.events) {
      s.sink.record(e);
    }
    s.sink.flush();
  }

  /** SafeRun with the file sink attached (async writer, FAIL_CLOSED). */
  @State(Scope.Benchmark)
  public static class Audited {
    Path dir;
    FileAuditSink sink;
    Support.Gate gate;
    final ToolCall allowed = ToolCall.of("create_charge", Support.ALLOWED_CHARGE_JSON);

    /** Opens the sink and builds the SafeRun. */
    @Setup(Level.Trial)
    public void open() throws IOException {
      dir = Files.createTempDirectory("saferun-audit-bench");
      Support.SteppingClock clock = new Support.SteppingClock(1000L);
      // The sink waits for room on real time (the default one second), as in production; the
      // stepping clock would not move while the only deciding thread waits.
      sink = FileAuditSink.builder(dir.resolve("audit.jsonl")).maxFileBytes(64L << 20)
          .clock(Clock.system()).build();
      gate = new Support.Gate(SafeRun.builder().policies(Support.stripePolicy()).clock(clock)
          .auditSink(sink).build(), clock);
    }

    /** Closes the sink and deletes its files. */
    @TearDown(Level.Trial)
    public void close() throws IOException {
      sink.close();
      deleteTree(dir);
    }
  }

  /** Per-iteration counts of what the audited decisions became. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Outcomes {
    /** Decisions allowed (and audited). */
    public long allowed;
    /** Decisions denied, which here means the audit sink refused them (queue full). */
    public long refused;

    /** Clears the counts. */
    @Setup(Level.Iteration)
    public void clear() {
      allowed = 0;
      refused = 0;
    }
  }

  /** The allowed Stripe decision, audited to the file sink. */
  @Benchmark
  public Decision decisionWithFileAudit(Audited a, Outcomes o) {
    Decision d = a.gate.decide(a.allowed);
    if (d.isAllowed()) {
      o.allowed++;
    } else {
      o.refused++;
    }
    return d;
  }

  /** The same, for its latency distribution (p50, p99). */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  public Decision decisionWithFileAuditLatency(Audited a) {
    return a.gate.decide(a.allowed);
  }

  /** The Stripe SafeRun with audit off, for the paced comparison. */
  @State(Scope.Benchmark)
  public static class Unaudited {
    Support.Gate gate;
    final ToolCall allowed = ToolCall.of("create_charge", Support.ALLOWED_CHARGE_JSON);

    /** Builds the SafeRun. */
    @Setup(Level.Trial)
    public void open() {
      gate = Support.gate(Support.stripePolicy(), null);
    }
  }

  /**
   * Offers one decision per {@code 1/PACED_PER_SECOND} s: before each invocation (untimed, a
   * {@link Level#Invocation} setup) it spins until the next slot on the system's monotonic
   * clock. A thread that falls more than ten slots behind (GC, descheduled) starts again from
   * now instead of bursting to catch up. Per thread; not thread-safe.
   */
  @State(Scope.Thread)
  public static class Pacer {
    private static final long PERIOD_NANOS = 1_000_000_000L / PACED_PER_SECOND;
    private final Clock clock = Clock.system();
    private long next;

    /** Starts the schedule. */
    @Setup(Level.Iteration)
    public void start() {
      next = clock.monotonicNanos();
    }

    /** Waits for the next slot. */
    @Setup(Level.Invocation)
    public void pace() {
      next += PERIOD_NANOS;
      long now = clock.monotonicNanos();
      while (now < next) {
        Thread.onSpinWait();
        now = clock.monotonicNanos();
      }
      if (now - next > 10 * PERIOD_NANOS) {
        next = now;
      }
    }
  }

  /** The allowed Stripe decision, audited to the file sink, offered at a fixed rate. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  public Decision pacedDecisionWithFileAudit(Audited a, Pacer p) {
    return a.gate.decide(a.allowed);
  }

  /** The same decision at the same rate with audit off: the baseline for the one above. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  public Decision pacedDecisionWithoutAudit(Unaudited u, Pacer p) {
    return u.gate.decide(u.allowed);
  }
}
