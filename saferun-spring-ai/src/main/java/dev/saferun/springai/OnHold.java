package dev.saferun.springai;

/**
 * What a tool call held for approval in {@code defer} mode does in Spring AI. ({@code wait} mode
 * always blocks the tool call until a human decides; see the policy's {@code approvals.mode}.)
 */
public enum OnHold {
  /**
   * The model receives {@code [SAFERUN APPROVAL REQUIRED] … (approval apr_…)} as the tool's
   * result and the conversation carries on; once approved, the identical call passes once.
   */
  TEXT,
  /**
   * The request stops with an {@link ApprovalPendingException} carrying the approval request
   * and, when thrown through {@link SafeRunToolCallingManager}, the conversation so far, so the
   * application can persist it and {@linkplain SafeRunToolCallingManager#resume resume} after
   * the decision.
   */
  EXCEPTION
}
