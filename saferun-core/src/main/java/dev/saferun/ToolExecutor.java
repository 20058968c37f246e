package dev.saferun;

/**
 * Runs a tool. SafeRun's own, framework-free shape of "the thing that does the work", which
 * {@link SafeRun#wrap} decorates; adapters bridge LangChain4j's and Spring AI's executors to it.
 *
 * <p>Thread-safety is the implementation's business; SafeRun may call it from any thread that
 * makes a tool call, concurrently.
 */
@FunctionalInterface
public interface ToolExecutor {

  /**
   * Runs the tool for an allowed call and returns the result text given to the model.
   *
   * @throws Exception when the tool fails; SafeRun refunds the call's counters and rethrows
   */
  String execute(ToolCall call) throws Exception;
}
