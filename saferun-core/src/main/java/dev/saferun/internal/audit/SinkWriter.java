package dev.saferun.internal.audit;

import dev.saferun.Clock;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditException;
import dev.saferun.audit.AuditSink.FailurePolicy;
import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets events to a {@link Target} and applies the failure policy when it cannot: under
 * {@code FAIL_CLOSED} the event is counted as rejected and {@link #record} throws (SafeRun then
 * denies the call); under {@code LOG_AND_CONTINUE} it is counted as dropped and logged at ERROR
 * (the first drop, then at most once a second). Either way the next write adds a gap record to
 * the log, so a loss is never silent. Thread-safe.
 */
public abstract class SinkWriter implements Closeable {
  static final Logger LOG = LoggerFactory.getLogger("dev.saferun.audit");

  /** Where records go: the file log, or a test double. Called by one writing thread at a time. */
  public interface Target extends Closeable {
    /** Appends event records (written to the OS, not necessarily forced). */
    void append(List<AuditEvent> events) throws IOException;

    /** Appends a gap record. */
    void gap(long dropped, long rejected) throws IOException;

    /** Called after each batch: forces under {@code EVERY_BATCH}. */
    void batchDone() throws IOException;

    /** Forces what was written, unless the fsync policy is {@code NEVER}. */
    void sync() throws IOException;

    /** The hash of the last record written, or {@code null}. */
    String head();
  }

  final Target target;
  final FailurePolicy policy;
  final Clock clock;
  final String name;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong lastLog = new AtomicLong(Long.MIN_VALUE);
  private long reportedDropped;
  private long reportedRejected;

  SinkWriter(Target target, FailurePolicy policy, Clock clock, String name) {
    this.target = target;
    this.policy = policy;
    this.clock = clock;
    this.name = name;
  }

  /**
   * Records one event, or applies the failure policy.
   *
   * @throws AuditException under {@code FAIL_CLOSED} when the event cannot be recorded
   */
  public abstract void record(AuditEvent event);

  /** Waits until every event accepted so far is written, then forces per the fsync policy. */
  public abstract void flush() throws IOException;

  /** Events lost under {@code LOG_AND_CONTINUE}. */
  public long dropped() {
    return dropped.get();
  }

  /** Events refused under {@code FAIL_CLOSED} (their calls were denied). */
  public long rejected() {
    return rejected.get();
  }

  /** The hash of the last record written, or {@code null}. */
  public String head() {
    return target.head();
  }

  /** An event that cannot be recorded: throw (fail closed) or count and log (continue). */
  void lost(AuditEvent e, String why, Throwable cause) {
    if (policy == FailurePolicy.FAIL_CLOSED) {
      rejected.incrementAndGet();
      throw new AuditException(why, cause);
    }
    long d = dropped.incrementAndGet();
    long now = clock.wallMillis();
    long last = lastLog.get();
    if (d == 1 || (now - last >= 1000 && lastLog.compareAndSet(last, now))) {
      lastLog.set(now);
      LOG.error("AUDIT EVENT DROPPED by {}: {} (tool={}, type={}); {} event(s) dropped so far"
          + " under LOG_AND_CONTINUE; a gap record marks the loss in the log", name, why,
          e.tool(), e.type(), d);
    }
  }

  /** Writes a gap record when events were lost since the last one. */
  synchronized void writeGap() throws IOException {
    long d = dropped.get();
    long r = rejected.get();
    if (d != reportedDropped || r != reportedRejected) {
      target.gap(d - reportedDropped, r - reportedRejected);
      reportedDropped = d;
      reportedRejected = r;
    }
  }
}
