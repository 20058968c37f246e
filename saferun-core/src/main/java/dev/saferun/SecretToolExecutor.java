package dev.saferun;

/**
 * A tool that needs credentials: SafeRun calls it only for allowed calls and passes the
 * {@link Secrets} it may read during the call. The model never sees them.
 *
 * <p>Thread-safety is the implementation's business; SafeRun may call it from any thread.
 */
@FunctionalInterface
public interface SecretToolExecutor {

  /**
   * Runs the tool for an allowed call.
   *
   * @throws Exception when the tool fails; SafeRun refunds the call's counters and rethrows (with
   *     secret values masked from the message)
   */
  String execute(ToolCall call, Secrets secrets) throws Exception;
}
