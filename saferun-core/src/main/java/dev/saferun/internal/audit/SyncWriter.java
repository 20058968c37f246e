package dev.saferun.internal.audit;

import dev.saferun.Clock;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink.FailurePolicy;
import java.io.IOException;
import java.util.List;

/**
 * Writes each event on the calling thread before {@link #record} returns (and forces it under
 * {@code EVERY_BATCH}). A write failure is permanent: later events are refused or dropped per the
 * failure policy. Thread-safe (one lock around each write).
 */
public final class SyncWriter extends SinkWriter {
  private boolean closed;
  private Throwable failure;

  public SyncWriter(Target target, FailurePolicy policy, Clock clock, String name) {
    super(target, policy, clock, name);
  }

  @Override
  public synchronized void record(AuditEvent event) {
    if (closed) {
      lost(event, "the audit sink " + name + " is closed", null);
      return;
    }
    if (failure != null) {
      lost(event, "the audit writer of " + name + " failed earlier: " + failure, failure);
      return;
    }
    try {
      target.append(List.of(event));
      writeGap();
      target.batchDone();
    } catch (IOException | RuntimeException e) {
      failure = e;
      LOG.error("Audit writer of {} failed; this and every later event is refused (FAIL_CLOSED)"
          + " or dropped (LOG_AND_CONTINUE) until the sink is recreated", name, e);
      lost(event, "audit write to " + name + " failed: " + e, e);
    }
  }

  @Override
  public synchronized void flush() throws IOException {
    if (failure != null) {
      throw new IOException("the audit writer of " + name + " failed", failure);
    }
    if (!closed) {
      writeGap();
      target.sync();
    }
  }

  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (failure == null) {
        writeGap();
      }
    } finally {
      target.close();
    }
    if (failure != null) {
      throw new IOException("the audit writer of " + name + " failed; events were lost", failure);
    }
  }
}
