/**
 * SafeRun's entry point and the values that cross its boundary: {@link dev.saferun.SafeRun}
 * (build, wrap, evaluate), {@link dev.saferun.ToolCall}, {@link dev.saferun.CallContext},
 * {@link dev.saferun.Decision}, the injected {@link dev.saferun.Clock} and the exception tree
 * rooted at {@link dev.saferun.SafeRunException}.
 */
package dev.saferun;
