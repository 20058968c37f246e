package dev.saferun.test;

import dev.saferun.Decision;
import dev.saferun.Decision.RuleTrace;
import dev.saferun.Decision.ShadowVerdict;
import dev.saferun.policy.SourceLocation;
import java.util.ArrayList;
import java.util.List;

/**
 * The result of one test case: whether it passed and, for the reader of a failure, what was
 * expected, what was decided, the decision itself with its per-rule trace, and where the case is
 * written. The CLI ({@code saferun test}) and the JUnit integration ({@link SafeRunTests}) both
 * print {@link #report()}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param file the test file's path or label
 * @param name the case's name
 * @param location where the case is written
 * @param passed whether the case passed
 * @param expected the expectation in words
 * @param actual the same fields of what was decided (or seen), in words
 * @param detail more about a failure (which call of a {@code repeat}, why a case did not run),
 *     or {@code null}
 * @param decision the decision shown: the first that did not match, else the last one made;
 *     {@code null} for cases that make no call
 */
public record CaseResult(
    String file,
    String name,
    SourceLocation location,
    boolean passed,
    String expected,
    String actual,
    String detail,
    Decision decision) {

  /** The per-rule trace of {@link #decision()}; empty when there is none. */
  public List<RuleTrace> trace() {
    return decision == null ? List.of() : decision.trace();
  }

  /**
   * The explanation of this result, one line per element, unindented: expected, actual, the
   * decision with its policy version, any detail, and the rule trace.
   */
  public List<String> report() {
    List<String> lines = new ArrayList<>();
    lines.add("expected: " + expected);
    lines.add("actual:   " + actual);
    if (decision != null) {
      lines.add("decision: " + describe(decision));
      if (decision.shadow() != null) {
        lines.add("shadow:   " + describe(decision.shadow()));
      }
    }
    if (detail != null) {
      lines.add(detail);
    }
    if (location != null && location.line() > 0) {
      lines.add("at " + location);
    }
    if (decision != null) {
      if (decision.trace().isEmpty()) {
        lines.add("trace: (no rule ran)");
      } else {
        lines.add("trace:");
        for (RuleTrace t : decision.trace()) {
          lines.add("  " + describe(t));
        }
      }
    }
    return lines;
  }

  /** A decision on one line: outcome, policy and version, rule, message. */
  static String describe(Decision d) {
    StringBuilder sb = new StringBuilder(Expectation.name(d.outcome()));
    sb.append(", policy ").append(Expectation.quote(d.policy()));
    if (d.policyVersion() != null && !d.policyVersion().isEmpty()) {
      sb.append(" (version ").append(shortVersion(d.policyVersion())).append(')');
    }
    sb.append(", rule ").append(Expectation.quote(d.rule()));
    sb.append(", message ").append(Expectation.quote(d.message()));
    return sb.toString();
  }

  static String describe(ShadowVerdict s) {
    return Expectation.name(s.outcome()) + ", policy " + Expectation.quote(s.policy())
        + ", rule " + Expectation.quote(s.rule()) + ", message " + Expectation.quote(s.message());
  }

  static String describe(RuleTrace t) {
    return t.policy() + " / " + t.tool() + " / \"" + t.rule() + "\": " + t.result()
        + (t.shadow() ? " (shadow)" : "")
        + (t.detail() == null ? "" : " - " + t.detail());
  }

  private static String shortVersion(String v) {
    return v.length() > 12 ? v.substring(0, 12) : v;
  }
}
