package dev.saferun;

import dev.saferun.approval.ApprovalRequest;
import dev.saferun.spi.ChargeReceipt;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What SafeRun decided for one tool call, and why. The one object handed to audit, logs,
 * exceptions, adapters and the test harness.
 *
 * <p><b>How a policy set decides</b> (SPEC §5–7). Every policy whose {@code match} holds is
 * evaluated; if none matches, the call is denied with {@code No policy applies to this call}.
 * Inside a policy the tool's rules and then the {@code "*"} rules run in file order and the first
 * rule that denies or holds decides. Across enforcing policies any deny wins (the first denying
 * policy's message), otherwise any hold, otherwise the call is allowed and all its counters are
 * charged at once, or none are. Shadow rules and shadow policies never change the outcome; what
 * they would have decided is reported in {@link #shadow()}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param outcome allow, deny or hold
 * @param policy name of the deciding policy; for an allow, the first matching enforcing policy;
 *     {@code null} when no policy was involved (e.g. no policy matched)
 * @param policyVersion sha-256 of that policy's source, or {@code null} with {@code policy}
 * @param rule the deciding rule's name, or {@code null} when no rule decided
 * @param message the reason, without the {@code [SAFERUN …]} prefix; for an allow, {@code "Allowed"}
 * @param shadow what shadow rules and policies would have decided, or {@code null} when none ran
 * @param retryAfter for a limit on a fixed window, how long until the window resets; else null
 * @param approval the approval request created for a hold, else {@code null}
 * @param receipt the counters charged for an allowed call (refunded if the tool fails); never null
 * @param trace one entry per rule evaluated, only when tracing is enabled; otherwise empty
 */
public record Decision(
    Outcome outcome,
    String policy,
    String policyVersion,
    String rule,
    String message,
    ShadowVerdict shadow,
    Duration retryAfter,
    ApprovalRequest approval,
    ChargeReceipt receipt,
    List<RuleTrace> trace) {

  /** The prefix of the text a model receives when a call is denied. */
  public static final String DENIED_PREFIX = "[SAFERUN POLICY DENIED] ";

  /** The prefix of the text a model receives when a call is held for approval. */
  public static final String APPROVAL_PREFIX = "[SAFERUN APPROVAL REQUIRED] ";

  public Decision {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(message, "message");
    receipt = receipt == null ? ChargeReceipt.NONE : receipt;
    trace = trace == null ? List.of() : List.copyOf(trace);
  }

  /** The three outcomes of a decision. */
  public enum Outcome {
    /** The tool may run. */
    ALLOW,
    /** The tool must not run; the model is told why. */
    DENY,
    /** The tool must not run until a human approves the call. */
    HOLD
  }

  /**
   * What shadow rules and shadow policies would have decided had they been enforced.
   *
   * @param outcome the would-be outcome
   * @param policy the would-be deciding policy, or {@code null}
   * @param rule the would-be deciding rule, or {@code null}
   * @param message the would-be message
   */
  public record ShadowVerdict(Outcome outcome, String policy, String rule, String message) {
    public ShadowVerdict {
      Objects.requireNonNull(outcome, "outcome");
    }
  }

  /**
   * One rule's result in a decision trace.
   *
   * @param policy the policy's name
   * @param tool the tool list the rule is in: the tool's name or {@code "*"}
   * @param rule the rule's name
   * @param result what the rule did
   * @param shadow whether the rule was advisory (shadow rule or shadow policy)
   * @param detail a short explanation, e.g. {@code args.amount = 6000 is not lte 5000}
   */
  public record RuleTrace(String policy, String tool, String rule, RuleResult result,
      boolean shadow, String detail) {}

  /** The result of one rule in a trace. */
  public enum RuleResult { PASSED, DENIED, HELD, NOT_REACHED }

  /** A denial that no rule made (bad arguments, no policy, evaluation failure). */
  public static Decision deny(String policy, String policyVersion, String rule, String message) {
    return new Decision(Outcome.DENY, policy, policyVersion, rule, message, null, null, null, null,
        null);
  }

  public boolean isAllowed() {
    return outcome == Outcome.ALLOW;
  }

  public boolean isDenied() {
    return outcome == Outcome.DENY;
  }

  public boolean isHeld() {
    return outcome == Outcome.HOLD;
  }

  /**
   * The text the model receives instead of the tool's result: {@code [SAFERUN POLICY DENIED]
   * <message>} for a deny, {@code [SAFERUN APPROVAL REQUIRED] <message> (approval <id>)} for a
   * hold. For an allow there is no such text and this throws.
   *
   * @throws IllegalStateException for an allowed decision
   */
  public String toModelText() {
    switch (outcome) {
      case DENY:
        return DENIED_PREFIX + message;
      case HOLD:
        return APPROVAL_PREFIX + message
            + (approval == null ? "" : " (approval " + approval.id() + ")");
      default:
        throw new IllegalStateException("An allowed call has no denial text");
    }
  }

  /** This decision with another receipt (used when counters are charged after evaluation). */
  public Decision withReceipt(ChargeReceipt newReceipt) {
    return new Decision(outcome, policy, policyVersion, rule, message, shadow, retryAfter,
        approval, newReceipt, trace);
  }

  /** This decision with an approval request attached. */
  public Decision withApproval(ApprovalRequest request) {
    return new Decision(outcome, policy, policyVersion, rule, message, shadow, retryAfter, request,
        receipt, trace);
  }
}
