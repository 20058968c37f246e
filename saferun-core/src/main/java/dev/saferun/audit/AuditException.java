package dev.saferun.audit;

import dev.saferun.SafeRunException;

/**
 * An audit record could not be written or an audit log could not be read: the sink's queue is
 * full under {@link AuditSink.FailurePolicy#FAIL_CLOSED}, the sink is closed or its writer
 * failed, or a file is not an audit log. Thrown by {@link FileAuditSink#record} so that SafeRun's
 * audit failure policy denies the call. Immutable once thrown; safe to share.
 */
public class AuditException extends SafeRunException {
  private static final long serialVersionUID = 1L;

  public AuditException(String message) {
    super(message);
  }

  public AuditException(String message, Throwable cause) {
    super(message, cause);
  }
}
