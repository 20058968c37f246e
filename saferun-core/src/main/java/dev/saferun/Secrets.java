package dev.saferun;

/**
 * Credentials for one allowed tool call, handed to a {@link SecretToolExecutor}. Valid only while
 * that call runs: after it returns, {@link #get} throws. Every value obtained is also masked
 * ({@code ***}) in what the tool returns to the model, in error messages and in audit records.
 *
 * <p>Thread-safe for use by the tool during its call.
 */
public interface Secrets {

  /**
   * The secret's value.
   *
   * @throws SafeRunException when there is no such secret, or the call has ended
   */
  String get(String name);
}
