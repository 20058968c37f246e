package dev.saferun.approval;

import java.util.List;

/**
 * Operate on held calls: list them, approve (optionally with edited arguments) or deny. Obtained
 * from {@code SafeRun.approvals()}.
 *
 * <p>Decisions are final and single-use: a request is approved or denied once; an approved
 * request lets its call run once; an expired request cannot be approved. Every transition is
 * audited with the approver's identity. Approving does not run anything by itself: the waiting
 * call (wait mode), the identical retried call (defer mode) or {@code SafeRun.runApproved} runs
 * the approved call after evaluating it again (SPEC §6).
 *
 * <p>Thread-safe: concurrent approve/deny calls on one request resolve to exactly one winner;
 * the others get an {@link ApprovalException} with {@link ApprovalException.Reason#ALREADY_DECIDED}.
 */
public interface Approvals {

  /** Requests waiting for a decision, oldest first (expired ones are expired on the way). */
  List<ApprovalRecord> pending();

  /**
   * A request by id.
   *
   * @throws ApprovalException ({@code NOT_FOUND}) for an unknown id
   */
  ApprovalRecord get(String id);

  /**
   * Approves a request as it is.
   *
   * @param approver who approves; recorded in the audit log
   * @throws ApprovalException when unknown, already decided or expired
   */
  ApprovalRecord approve(String id, String approver);

  /**
   * Approves a request with edited arguments (a JSON object). The edited arguments are the ones
   * evaluated again, charged, executed and audited.
   *
   * @throws ApprovalException when unknown, already decided, expired, or the arguments are not
   *     a JSON object
   */
  ApprovalRecord approve(String id, String approver, String editedArgumentsJson);

  /**
   * Denies a request.
   *
   * @throws ApprovalException when unknown, already decided or expired
   */
  ApprovalRecord deny(String id, String approver, String reason);
}
