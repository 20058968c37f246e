package dev.saferun.audit;

import java.util.List;

/**
 * Receives every {@link AuditEvent}.
 *
 * <p><b>Contract.</b> {@link #record} is called on the thread that made the tool call, after the
 * decision and before the tool runs (for decision events), in the order events happen on that
 * thread; events from different threads may interleave. It may block, but every millisecond it
 * blocks is added to the tool call: slow sinks should queue. If it throws, SafeRun applies its
 * audit failure policy: by default the call is denied ({@code Audit failed: …}, fail closed);
 * with {@code auditFailure(LOG_AND_CONTINUE)} the failure is logged and the decision stands.
 * Implementations must be thread-safe.
 */
@FunctionalInterface
public interface AuditSink {

  /** Records nothing. */
  AuditSink NONE = new AuditSink() {
    @Override
    public void record(AuditEvent event) {
      // nothing
    }

    @Override
    public boolean enabled() {
      return false;
    }

    @Override
    public String toString() {
      return "AuditSink.NONE";
    }
  };

  /** Records one event; throws when it cannot. */
  void record(AuditEvent event) throws Exception;

  /**
   * Whether this sink records anything now. When {@code false}, SafeRun skips building events
   * (and their argument rendering) for it. Default {@code true}.
   */
  default boolean enabled() {
    return true;
  }

  /**
   * One line per decision on the SLF4J logger {@code dev.saferun.decisions}, e.g.
   * {@code [SAFERUN] DENIED tool=create_refund policy=support rule="max single refund"
   * args={"amount":6000}}. Decisions at INFO, executed/failed outcomes at DEBUG. Thread-safe.
   */
  static AuditSink slf4j() {
    return Slf4jAuditSink.INSTANCE;
  }

  /** Sends every event to each sink in order; the first failure stops the chain and is thrown. */
  static AuditSink composite(AuditSink... sinks) {
    List<AuditSink> list = List.of(sinks);
    return new AuditSink() {
      @Override
      public void record(AuditEvent event) throws Exception {
        for (AuditSink s : list) {
          if (s.enabled()) {
            s.record(event);
          }
        }
      }

      @Override
      public boolean enabled() {
        for (AuditSink s : list) {
          if (s.enabled()) {
            return true;
          }
        }
        return false;
      }
    };
  }

  /** What to do when a sink throws. */
  enum FailurePolicy {
    /** Deny the call: nothing runs that was not recorded. The default. */
    FAIL_CLOSED,
    /** Log the failure and let the decision stand. */
    LOG_AND_CONTINUE
  }
}
