package dev.saferun.springai;

import dev.saferun.CallContext;
import dev.saferun.Execution;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import java.util.Map;
import org.springframework.ai.chat.model.ToolContext;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.springframework.ai.tool.execution.ToolExecutionException;
import org.springframework.ai.tool.metadata.ToolMetadata;

/**
 * A Spring AI tool behind SafeRun. Each call is decided before the tool runs
 * ({@link SafeRun#run}): an allowed call runs the delegate; a denied one returns
 * {@code [SAFERUN POLICY DENIED] <message>} as the tool's result, so the model learns why and the
 * conversation goes on; a held one blocks until a human decides ({@code approvals.mode: wait},
 * then runs the approved, possibly edited, arguments) or returns
 * {@code [SAFERUN APPROVAL REQUIRED] … (approval apr_…)} ({@code defer}), or throws
 * {@link ApprovalPendingException} when configured with {@link OnHold#EXCEPTION}.
 *
 * <p>The call's context is the {@link SafeRunSpringAi#defaultContext() default context} overridden
 * by the {@code saferun.*} entries of the {@link ToolContext} (see {@link SafeRunToolContext}).
 * For MCP tools those entries are removed before the delegate is called. If the tool fails
 * (throws, for example a {@code ToolExecutionException}), the counters the call charged are
 * refunded and the exception is rethrown for Spring AI to handle as usual.
 *
 * <p>Definition and metadata are the delegate's, unchanged. Obtained from
 * {@link SafeRunSpringAi#wrap(ToolCallback)}. Thread-safe if the delegate is.
 */
public final class SafeRunToolCallback implements ToolCallback {
  private final ToolCallback delegate;
  private final SafeRunSpringAi saferun;
  private final boolean stripSafeRunKeys;

  SafeRunToolCallback(ToolCallback delegate, SafeRunSpringAi saferun, boolean stripSafeRunKeys) {
    this.delegate = delegate;
    this.saferun = saferun;
    this.stripSafeRunKeys = stripSafeRunKeys;
  }

  /** The tool this one guards. */
  public ToolCallback delegate() {
    return delegate;
  }

  @Override
  public ToolDefinition getToolDefinition() {
    return delegate.getToolDefinition();
  }

  @Override
  public ToolMetadata getToolMetadata() {
    return delegate.getToolMetadata();
  }

  @Override
  public String call(String toolInput) {
    return call(toolInput, null);
  }

  @Override
  public String call(String toolInput, ToolContext toolContext) {
    CallContext context = saferun.callContext(toolContext == null ? null : toolContext.getContext());
    ToolCall call = new ToolCall(getToolDefinition().name(), toolInput, context);
    Execution e = execute(call, toolContext);
    saferun.tag(e.decision());
    if (e.decision().isHeld() && saferun.onHold() == OnHold.EXCEPTION
        && e.decision().approval() != null) {
      throw new ApprovalPendingException(e.decision());
    }
    return e.text();
  }

  /** Runs the call through SafeRun; {@code toolContext} is what the delegate receives. */
  Execution execute(ToolCall call, ToolContext toolContext) {
    try {
      return saferun.safeRun().run(call, c -> invokeDelegate(c.arguments(), toolContext));
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new ToolExecutionException(getToolDefinition(), e);
    }
  }

  /** Runs an approved request ({@link SafeRun#runApproved}) through the delegate. */
  Execution executeApproved(String approvalId, ToolContext toolContext) {
    try {
      return saferun.safeRun().runApproved(approvalId,
          c -> invokeDelegate(c.arguments(), toolContext));
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new ToolExecutionException(getToolDefinition(), e);
    }
  }

  private String invokeDelegate(String arguments, ToolContext toolContext) {
    if (toolContext == null) {
      return delegate.call(arguments);
    }
    if (stripSafeRunKeys) {
      Map<String, Object> kept = SafeRunToolContext.withoutSafeRunKeys(toolContext.getContext());
      if (kept != toolContext.getContext()) {
        return delegate.call(arguments, new ToolContext(kept));
      }
    }
    return delegate.call(arguments, toolContext);
  }

  @Override
  public String toString() {
    return "SafeRun(" + delegate + ")";
  }
}
