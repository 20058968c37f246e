package dev.saferun.audit;

import dev.saferun.CallContext;
import dev.saferun.Decision.ShadowVerdict;
import java.time.Instant;
import java.util.Objects;

/**
 * One audited fact: a decision on a call, or what became of an allowed call (executed, failed).
 * The one event model every {@link AuditSink} receives. Arguments are always the redacted view:
 * the raw value of a {@code redact:} path never reaches an audit record.
 *
 * <p>Immutable and thread-safe.
 *
 * @param time wall-clock time of the event
 * @param sequence strictly increasing per {@code SafeRun} instance
 * @param type what happened
 * @param tool the tool
 * @param context the call's context (run, agent, environment, user, tenant, …)
 * @param arguments the redacted arguments as canonical JSON, or the raw text (truncated to 200
 *     characters) when they could not be parsed
 * @param argumentsHash sha-256 of the canonical (unredacted) arguments, or {@code null}
 * @param policy the deciding policy, or {@code null}
 * @param policyVersion its version, or {@code null}
 * @param rule the deciding rule, or {@code null}
 * @param message the decision's message (or the tool's failure for {@link Type#FAILED})
 * @param shadow the shadow verdict, or {@code null}
 * @param decisionNanos how long the decision took
 * @param approvalId the approval request's id, or {@code null}
 * @param approver who approved or denied, or {@code null}
 * @param toolNanos how long the tool ran (executed/failed events), else 0
 * @param cost what the call spent ({@code spend} rules: the amount charged to the daily spend
 *     counter), or {@code null} when unknown
 */
public record AuditEvent(
    Instant time,
    long sequence,
    Type type,
    String tool,
    CallContext context,
    String arguments,
    String argumentsHash,
    String policy,
    String policyVersion,
    String rule,
    String message,
    ShadowVerdict shadow,
    long decisionNanos,
    String approvalId,
    String approver,
    long toolNanos,
    java.math.BigDecimal cost) {

  public AuditEvent {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(context, "context");
  }

  /** What an event records. */
  public enum Type {
    ALLOWED, DENIED, HELD, APPROVED, APPROVAL_DENIED, EXPIRED, EXECUTED, FAILED,
    /** A new policy set is in force ({@code tool} is {@code "*"}, the message lists versions). */
    POLICY_RELOADED,
    /** A policy change failed to load; the previous set stays in force. */
    POLICY_REJECTED,
    /** A tool's error breaker opened; its calls are denied until a trial call succeeds. */
    BREAKER_OPENED,
    /** A tool's error breaker closed again. */
    BREAKER_CLOSED,
    /** The kill switch was engaged: matching calls are denied. */
    KILL_SWITCH_ENGAGED,
    /** The kill switch was released. */
    KILL_SWITCH_RELEASED
  }
}
