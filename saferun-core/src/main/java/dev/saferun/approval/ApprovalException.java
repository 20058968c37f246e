package dev.saferun.approval;

import dev.saferun.SafeRunException;

/**
 * An approval operation was refused: unknown id, already decided, expired, or edited arguments
 * that are not a JSON object. Nothing changed. Immutable.
 */
public class ApprovalException extends SafeRunException {
  private static final long serialVersionUID = 1L;

  private final Reason reason;

  public ApprovalException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  /** Why it was refused, for HTTP status codes and programmatic handling. */
  public Reason reason() {
    return reason;
  }

  /** Why an approval operation was refused. */
  public enum Reason {
    /** No request has this id. */
    NOT_FOUND,
    /** The request was already approved, used or denied. */
    ALREADY_DECIDED,
    /** The request expired before the decision. */
    EXPIRED,
    /** The edited arguments are not acceptable. */
    INVALID_ARGUMENTS
  }
}
