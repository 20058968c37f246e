package dev.saferun;

import dev.saferun.approval.ApprovalRecord;

/**
 * What happened to one tool call that went through {@link SafeRun#run}: the final decision, the
 * call as it was finally evaluated (with an approver's edited arguments, if any), the tool's
 * output when it ran, and the approval that let it through.
 *
 * <p>Immutable and thread-safe.
 *
 * @param decision the final decision
 * @param call the call as finally evaluated and, if allowed, run
 * @param output the tool's result, or {@code null} when the tool did not run
 * @param approval the approval used for this call, or {@code null}
 * @param redactedArguments the final arguments with {@code redact:} paths masked (canonical
 *     JSON), or {@code null}
 */
public record Execution(Decision decision, ToolCall call, String output, ApprovalRecord approval,
    String redactedArguments) {

  /** Whether the tool ran. */
  public boolean ran() {
    return output != null;
  }

  /** Whether an approver changed the arguments before the call ran. */
  public boolean argumentsEdited() {
    return approval != null && approval.edited();
  }

  /**
   * The text for the model: the tool's output (preceded, when an approver changed the
   * arguments, by a line saying so), or the denial / approval-required text.
   */
  public String text() {
    if (output == null) {
      return decision.toModelText();
    }
    if (argumentsEdited()) {
      return "[SAFERUN APPROVED WITH CHANGES] " + approval.approver()
          + " changed the arguments to " + redactedArguments + "\n" + output;
    }
    return output;
  }
}
