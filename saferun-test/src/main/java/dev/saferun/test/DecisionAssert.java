package dev.saferun.test;

import dev.saferun.Decision;
import dev.saferun.Decision.Outcome;
import dev.saferun.Decision.RuleTrace;
import dev.saferun.Decision.ShadowVerdict;
import dev.saferun.ToolCall;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.assertj.core.api.AbstractAssert;

/**
 * AssertJ assertions on a {@link Decision}, returned by {@link PolicyTester#call} or made with
 * {@link #assertThat(Decision)}. Each method checks one field and returns {@code this}, so checks
 * chain:
 *
 * <pre>{@code
 * tester.call("create_refund", "{\"amount\": 60000}")
 *     .isDenied()
 *     .byRule("hard limit")
 *     .withMessage("Refunds over $500.00 are never issued by the agent");
 * }</pre>
 *
 * <p>A failed check explains itself: the call, what was expected and what was decided, the whole
 * decision with its policy and policy version, the shadow verdict, and the rule trace (one line
 * per rule evaluated, with why it passed, denied or held). The trace is recorded when SafeRun is
 * built with {@code trace(true)}, as {@link PolicyTester} does. The expected and actual values are
 * also attached to the {@link AssertionError} so IDEs can show a diff.
 *
 * <p>Not thread-safe (like every AssertJ assertion object): use one from one thread. The
 * {@link Decision} it wraps is immutable.
 */
public final class DecisionAssert extends AbstractAssert<DecisionAssert, Decision> {
  private final ToolCall call;
  private final boolean traced;

  /** Assertions on {@code decision}; failures do not name the call. */
  public DecisionAssert(Decision decision) {
    this(decision, null, false);
  }

  /**
   * Assertions on the decision for {@code call}.
   *
   * @param decision the decision
   * @param call the call that was decided, named in failure messages; may be null
   * @param traced whether the SafeRun that decided records traces (so an empty trace means no
   *     rule ran)
   */
  DecisionAssert(Decision decision, ToolCall call, boolean traced) {
    super(decision, DecisionAssert.class);
    this.call = call;
    this.traced = traced;
  }

  /** Entry point for a decision made outside {@link PolicyTester}. */
  public static DecisionAssert assertThat(Decision decision) {
    return new DecisionAssert(decision);
  }

  /** The decision under test, to pass on (for example to {@link PolicyTester#approve}). */
  public Decision decision() {
    return actual;
  }

  /** The call the decision is about, or {@code null} when not known. */
  public ToolCall call() {
    return call;
  }

  // ------------------------------------------------------------------ outcome

  /** Checks that the call was allowed. */
  public DecisionAssert isAllowed() {
    return hasOutcome(Outcome.ALLOW);
  }

  /** Checks that the call was denied. */
  public DecisionAssert isDenied() {
    return hasOutcome(Outcome.DENY);
  }

  /** Checks that the call was held for a human's approval. */
  public DecisionAssert isHeld() {
    return hasOutcome(Outcome.HOLD);
  }

  /** Checks the outcome. */
  public DecisionAssert hasOutcome(Outcome expected) {
    Objects.requireNonNull(expected, "expected");
    isNotNull();
    if (actual.outcome() != expected) {
      fail("to be " + verb(expected), "it was " + verb(actual.outcome()),
          Expectation.name(expected), Expectation.name(actual.outcome()));
    }
    return this;
  }

  // ------------------------------------------------------------------ why

  /** Checks the deciding rule's name. */
  public DecisionAssert byRule(String rule) {
    Objects.requireNonNull(rule, "rule (use byNoRule() to expect none)");
    isNotNull();
    if (!rule.equals(actual.rule())) {
      fail("to be decided by rule " + Expectation.quote(rule),
          actual.rule() == null ? "no rule decided it" : "rule " + Expectation.quote(
              actual.rule()) + " decided it", "rule " + Expectation.quote(rule),
          "rule " + Expectation.quote(actual.rule()));
    }
    return this;
  }

  /**
   * Checks that no rule decided: an allow that every rule passed, or a denial made before any
   * rule ran (hidden or unlisted tool, bad arguments, no policy applies).
   */
  public DecisionAssert byNoRule() {
    isNotNull();
    if (actual.rule() != null) {
      fail("to be decided by no rule", "rule " + Expectation.quote(actual.rule())
          + " decided it", "no rule", "rule " + Expectation.quote(actual.rule()));
    }
    return this;
  }

  /** Checks the deciding policy's name. */
  public DecisionAssert byPolicy(String policy) {
    Objects.requireNonNull(policy, "policy");
    isNotNull();
    if (!policy.equals(actual.policy())) {
      fail("to be decided by policy " + Expectation.quote(policy),
          actual.policy() == null ? "no policy decided it" : "policy "
              + Expectation.quote(actual.policy()) + " decided it",
          "policy " + Expectation.quote(policy), "policy " + Expectation.quote(actual.policy()));
    }
    return this;
  }

  /** Checks the message exactly (without the {@code [SAFERUN …]} prefix). */
  public DecisionAssert withMessage(String message) {
    Objects.requireNonNull(message, "message");
    isNotNull();
    if (!message.equals(actual.message())) {
      fail("to have message " + Expectation.quote(message),
          "the message was " + Expectation.quote(actual.message()), message, actual.message());
    }
    return this;
  }

  /** Checks that the message contains {@code text}. */
  public DecisionAssert withMessageContaining(String text) {
    Objects.requireNonNull(text, "text");
    isNotNull();
    if (!actual.message().contains(text)) {
      fail("to have a message containing " + Expectation.quote(text),
          "the message was " + Expectation.quote(actual.message()), text, actual.message());
    }
    return this;
  }

  /**
   * Checks the exact text the model receives instead of the tool's result
   * ({@link Decision#toModelText()}), e.g. {@code [SAFERUN POLICY DENIED] Too much}. For a hold
   * the text ends with the approval id, so prefer {@link #withMessage} there.
   */
  public DecisionAssert withModelText(String text) {
    Objects.requireNonNull(text, "text");
    isNotNull();
    String shown = actual.isAllowed() ? null : actual.toModelText();
    if (!text.equals(shown)) {
      fail("to show the model " + Expectation.quote(text), shown == null
          ? "it was allowed, so the model sees the tool's result" : "the model sees "
          + Expectation.quote(shown), text, shown);
    }
    return this;
  }

  /** Checks how long until the fixed window that denied the call resets. */
  public DecisionAssert withRetryAfter(Duration retryAfter) {
    Objects.requireNonNull(retryAfter, "retryAfter");
    isNotNull();
    if (!retryAfter.equals(actual.retryAfter())) {
      fail("to have retry-after " + retryAfter, "retry-after was " + actual.retryAfter(),
          String.valueOf(retryAfter), String.valueOf(actual.retryAfter()));
    }
    return this;
  }

  // ------------------------------------------------------------------ shadow

  /**
   * Checks what shadow rules and shadow policies would have decided (SPEC §7). The call's own
   * outcome is checked separately: a shadow deny on an allowed call is {@code
   * isAllowed().withShadow(Outcome.DENY)}.
   */
  public DecisionAssert withShadow(Outcome expected) {
    Objects.requireNonNull(expected, "expected");
    isNotNull();
    ShadowVerdict s = actual.shadow();
    if (s == null || s.outcome() != expected) {
      fail("to have a shadow verdict of " + Expectation.name(expected), s == null
          ? "no shadow rule or policy ran" : "the shadow verdict was " + Expectation.name(
              s.outcome()), "shadow " + Expectation.name(expected),
          s == null ? "no shadow verdict" : "shadow " + Expectation.name(s.outcome()));
    }
    return this;
  }

  /** Checks the rule of the shadow verdict. */
  public DecisionAssert withShadowRule(String rule) {
    Objects.requireNonNull(rule, "rule");
    isNotNull();
    ShadowVerdict s = actual.shadow();
    if (s == null || !rule.equals(s.rule())) {
      fail("to have a shadow verdict by rule " + Expectation.quote(rule), s == null
          ? "no shadow rule or policy ran" : "the shadow verdict was by rule "
          + Expectation.quote(s.rule()), "shadow rule " + Expectation.quote(rule),
          s == null ? "no shadow verdict" : "shadow rule " + Expectation.quote(s.rule()));
    }
    return this;
  }

  /** Checks that no shadow rule or shadow policy ran. */
  public DecisionAssert withoutShadow() {
    isNotNull();
    ShadowVerdict s = actual.shadow();
    if (s != null) {
      fail("to have no shadow verdict", "the shadow verdict was " + CaseResult.describe(s),
          "no shadow verdict", "shadow " + Expectation.name(s.outcome()));
    }
    return this;
  }

  // ------------------------------------------------------------------ approval

  /**
   * The approval id of a held call ({@code apr_…}).
   *
   * @throws AssertionError when the call was not held
   */
  public String approvalId() {
    isHeld();
    if (actual.approval() == null) {
      fail("to carry an approval request", "it carries none", "an approval request", "none");
    }
    return actual.approval().id();
  }

  // ------------------------------------------------------------------ failure text

  private void fail(String expectation, String but, String expected, String actualValue) {
    String text = explain(expectation, but);
    failWithActualExpectedAndMessage(actualValue, expected, "%s", text);
  }

  /** The failure text: what was expected, what happened, the decision and its trace. */
  String explain(String expectation, String but) {
    StringBuilder sb = new StringBuilder("Expected ");
    sb.append(call == null ? "the decision" : "the call " + describe(call));
    sb.append('\n').append(expectation).append(",\nbut ").append(but).append('.');
    for (String line : details(actual, traced)) {
      sb.append("\n  ").append(line);
    }
    return sb.toString();
  }

  /** The decision, its shadow verdict and its rule trace, one line each (unindented). */
  static List<String> details(Decision d, boolean traced) {
    List<String> lines = new ArrayList<>();
    lines.add("decision: " + CaseResult.describe(d));
    if (d.shadow() != null) {
      lines.add("shadow:   " + CaseResult.describe(d.shadow()));
    }
    if (d.approval() != null) {
      lines.add("approval: " + d.approval().id() + " expires " + d.approval().expiresAt());
    }
    if (d.trace().isEmpty()) {
      lines.add(traced ? "trace: (no rule ran)"
          : "trace: (none: no rule ran, or tracing is off; see SafeRun.builder().trace(true))");
    } else {
      lines.add("trace:");
      for (RuleTrace t : d.trace()) {
        lines.add("  " + CaseResult.describe(t));
      }
    }
    return lines;
  }

  static String describe(ToolCall call) {
    String args = call.arguments() == null || call.arguments().isBlank() ? "{}"
        : call.arguments();
    String s = call.tool() + " " + args;
    if (!call.context().asMap().isEmpty()) {
      s += " with context " + call.context();
    }
    return s;
  }

  private static String verb(Outcome o) {
    switch (o) {
      case ALLOW:
        return "allowed";
      case DENY:
        return "denied";
      default:
        return "held for approval";
    }
  }
}
