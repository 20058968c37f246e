package dev.saferun.benchmarks;

import dev.saferun.Clock;
import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.spi.StateStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/** Shared fixtures of the benchmarks: policies, clocks, calls. Stateless helpers. */
final class Support {
  /** 2026-01-01T00:00:00Z. */
  static final long START_MILLIS = 1_767_225_600_000L;

  /** The allowed Stripe call: within every limit and an allowed currency. */
  static final String ALLOWED_CHARGE_JSON =
      "{\"amount\":1,\"currency\":\"usd\",\"customer\":\"cus_123\",\"description\":\"order 42\"}";

  private Support() {}

  static String resource(String name) {
    try (InputStream in = Support.class.getResourceAsStream("/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing benchmark resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static PolicySet stripePolicy() {
    return PolicySet.of(PolicyLoader.loadString(resource("stripe.yaml"), "stripe.yaml"));
  }

  static PolicySet policy(String yaml, String name) {
    return PolicySet.of(PolicyLoader.loadString(yaml, name));
  }

  /**
   * A SafeRun whose clock moves one second per decision: what the decision benchmarks measure.
   * Thread-safe (as SafeRun is).
   */
  static final class Gate {
    final SafeRun safeRun;
    final SteppingClock clock;

    Gate(SafeRun safeRun, SteppingClock clock) {
      this.safeRun = safeRun;
      this.clock = clock;
    }

    Decision decide(ToolCall call) {
      clock.step();
      return safeRun.evaluate(call);
    }
  }

  /** A gate on the policies, counters in the store (null: in memory), audit off. */
  static Gate gate(PolicySet policies, StateStore store) {
    SteppingClock clock = new SteppingClock(1000L);
    return new Gate(safeRun(policies, clock, store), clock);
  }

  /** A SafeRun on the given clock and store (null: in memory), audit off. */
  static SafeRun safeRun(PolicySet policies, Clock clock, StateStore store) {
    SafeRun.Builder b = SafeRun.builder().policies(policies).clock(clock)
        .auditSink(AuditSink.NONE);
    if (store != null) {
      b.stateStore(store);
    }
    return b.build();
  }

  /**
   * Wall time that moves a fixed step each time a benchmark operation begins ({@link #step}), so a
   * limited call can be repeated for ever (one second per call is 60 calls a minute), while
   * reading it costs what reading a clock costs. Monotonic time is constant (the latency SafeRun
   * records for audit is not measured here). Thread-safe.
   */
  static final class SteppingClock implements Clock {
    private final AtomicLong millis = new AtomicLong(START_MILLIS);
    private final long stepMillis;

    SteppingClock(long stepMillis) {
      this.stepMillis = stepMillis;
    }

    /** Moves time one step; returns the new wall time. */
    long step() {
      return millis.addAndGet(stepMillis);
    }

    @Override
    public long wallMillis() {
      return millis.get();
    }

    @Override
    public long monotonicNanos() {
      return 0L;
    }
  }

  /** Wall time that moves only when told. Thread-safe. */
  static final class ManualClock implements Clock {
    private final AtomicLong millis = new AtomicLong(START_MILLIS);

    void advance(long deltaMillis) {
      millis.addAndGet(deltaMillis);
    }

    @Override
    public long wallMillis() {
      return millis.get();
    }

    @Override
    public long monotonicNanos() {
      return 0L;
    }
  }
}
