package dev.saferun;

/**
 * Thrown by APIs that surface a denial or hold as an exception rather than as text. Carries the
 * full {@link Decision}. A control-flow exception: it has no stack trace. Immutable.
 */
public class PolicyDeniedException extends SafeRunException {
  private static final long serialVersionUID = 1L;

  private final transient Decision decision;

  public PolicyDeniedException(Decision decision) {
    super(decision.toModelText(), null);
    this.decision = decision;
  }

  /** The decision that refused the call. */
  public Decision decision() {
    return decision;
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
