package dev.saferun.springai;

import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;

/** A provider whose tools are wrapped each time they are asked for. Thread-safe if the delegate is. */
final class WrappingToolCallbackProvider implements ToolCallbackProvider {
  private final ToolCallbackProvider delegate;
  private final SafeRunSpringAi saferun;

  WrappingToolCallbackProvider(ToolCallbackProvider delegate, SafeRunSpringAi saferun) {
    this.delegate = delegate;
    this.saferun = saferun;
  }

  @Override
  public ToolCallback[] getToolCallbacks() {
    return saferun.wrapAll(delegate.getToolCallbacks());
  }

  @Override
  public String toString() {
    return "SafeRun(" + delegate + ")";
  }
}
