package dev.saferun.approval;

import java.time.Instant;
import java.util.Objects;

/**
 * An approval request and where it stands: pending, approved (not yet used), used, denied or
 * expired. Decisions are final: a record leaves {@link State#PENDING} once, and an approved
 * record is used once.
 *
 * <p>Immutable and thread-safe.
 *
 * @param request the request
 * @param state where it stands
 * @param approver who approved or denied it, or {@code null}
 * @param reason the denial reason, or {@code null}
 * @param finalArguments the arguments that will run: the approver's edit, else the original
 *     (canonical JSON); {@code null} until approved
 * @param finalArgumentsHash sha-256 of {@code finalArguments}; the approval is bound to it
 * @param decidedAt when it was approved, denied or expired, or {@code null}
 */
public record ApprovalRecord(
    ApprovalRequest request,
    State state,
    String approver,
    String reason,
    String finalArguments,
    String finalArgumentsHash,
    Instant decidedAt) {

  public ApprovalRecord {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(state, "state");
  }

  /** Where a request stands. */
  public enum State {
    /** Waiting for a human. */
    PENDING,
    /** Approved; the call may run once. */
    APPROVED,
    /** Approved and run (or re-evaluated) once: cannot be used again. */
    USED,
    /** Denied by a human. */
    DENIED,
    /** Nobody decided before it expired; counts as a denial. */
    EXPIRED
  }

  /** A new pending record. */
  public static ApprovalRecord pending(ApprovalRequest request) {
    return new ApprovalRecord(request, State.PENDING, null, null, null, null, null);
  }

  public String id() {
    return request.id();
  }

  /** Whether the approver changed the arguments. */
  public boolean edited() {
    return finalArgumentsHash != null && !finalArgumentsHash.equals(request.argumentsHash());
  }

  /** This record in another state. */
  public ApprovalRecord with(State newState, String newApprover, String newReason,
      String newFinalArguments, String newFinalHash, Instant newDecidedAt) {
    return new ApprovalRecord(request, newState, newApprover, newReason, newFinalArguments,
        newFinalHash, newDecidedAt);
  }

  /** This record in another state, keeping everything else. */
  public ApprovalRecord withState(State newState) {
    return new ApprovalRecord(request, newState, approver, reason, finalArguments,
        finalArgumentsHash, decidedAt);
  }

  /** Excludes the raw arguments (see {@link ApprovalRequest#toString()}). */
  @Override
  public String toString() {
    return "ApprovalRecord[" + request + " state=" + state
        + (approver == null ? "" : " by=" + approver) + "]";
  }
}
