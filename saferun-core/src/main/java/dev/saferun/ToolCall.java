package dev.saferun;

import java.util.Objects;

/**
 * One request by an agent to run a tool: the tool's name, its arguments as the JSON text the model
 * produced, and the call's {@link CallContext}. The arguments are kept as text so that what is
 * evaluated is exactly what is forwarded; SafeRun parses them itself, with limits.
 *
 * <p>Immutable and thread-safe.
 *
 * @param tool the tool name, as the model sees it; never null
 * @param arguments the arguments as JSON text; {@code null} or blank means {@code {}}
 * @param context the call's context; never null
 */
public record ToolCall(String tool, String arguments, CallContext context) {

  public ToolCall {
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(context, "context");
  }

  /** A call with an empty context. */
  public static ToolCall of(String tool, String argumentsJson) {
    return new ToolCall(tool, argumentsJson, CallContext.empty());
  }

  /** A call with the given context. */
  public static ToolCall of(String tool, String argumentsJson, CallContext context) {
    return new ToolCall(tool, argumentsJson, context);
  }

  /** This call with other arguments (for example the ones an approver edited). */
  public ToolCall withArguments(String argumentsJson) {
    return new ToolCall(tool, argumentsJson, context);
  }

  /** This call with another context. */
  public ToolCall withContext(CallContext context) {
    return new ToolCall(tool, arguments, context);
  }
}
