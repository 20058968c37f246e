package dev.saferun;

/**
 * The root of SafeRun's exceptions. Messages read as log lines and name the policy, rule, key or
 * file involved. Unchecked. Instances are immutable once thrown; safe to share.
 */
public class SafeRunException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SafeRunException(String message) {
    super(message);
  }

  public SafeRunException(String message, Throwable cause) {
    super(message, cause);
  }
}
