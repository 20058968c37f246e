package dev.saferun.test;

import dev.saferun.Decision;
import dev.saferun.Decision.Outcome;
import dev.saferun.Decision.ShadowVerdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What a case expects of a decision ({@code expect:}), or of its shadow verdict
 * ({@code expect.shadow}). Only the fields a test names are compared.
 *
 * @param decision the expected outcome
 * @param checksRule whether {@code rule:} was given ({@code rule: null} expects no rule)
 * @param rule the expected rule name, or {@code null} for none
 * @param checksPolicy whether {@code policy:} was given
 * @param policy the expected policy name, or {@code null} for none
 * @param message the exact expected message (without the {@code [SAFERUN …]} prefix), or null
 * @param messageContains a substring the message must contain, or null
 * @param checksShadow whether {@code shadow:} was given
 * @param shadow the expected shadow verdict, or {@code null} to expect none
 */
record Expectation(
    Outcome decision,
    boolean checksRule,
    String rule,
    boolean checksPolicy,
    String policy,
    String message,
    String messageContains,
    boolean checksShadow,
    Expectation shadow) {

  Expectation {
    Objects.requireNonNull(decision, "decision");
  }

  /** Just an outcome. */
  static Expectation of(Outcome decision) {
    return new Expectation(decision, false, null, false, null, null, null, false, null);
  }

  /** Whether a decision meets this expectation. */
  boolean matches(Decision d) {
    if (!matches(d.outcome(), d.policy(), d.rule(), d.message())) {
      return false;
    }
    if (!checksShadow) {
      return true;
    }
    ShadowVerdict s = d.shadow();
    if (shadow == null || s == null) {
      return shadow == null && s == null;
    }
    return shadow.matches(s.outcome(), s.policy(), s.rule(), s.message());
  }

  private boolean matches(Outcome o, String p, String r, String m) {
    return decision == o
        && (!checksRule || Objects.equals(rule, r))
        && (!checksPolicy || Objects.equals(policy, p))
        && (message == null || message.equals(m))
        && (messageContains == null || (m != null && m.contains(messageContains)));
  }

  /** The expectation in words, e.g. {@code deny, rule "max refund", message "Too much"}. */
  String describe() {
    List<String> parts = new ArrayList<>();
    parts.add(name(decision));
    if (checksRule) {
      parts.add(rule == null ? "no rule" : "rule " + quote(rule));
    }
    if (checksPolicy) {
      parts.add(policy == null ? "no policy" : "policy " + quote(policy));
    }
    if (message != null) {
      parts.add("message " + quote(message));
    }
    if (messageContains != null) {
      parts.add("message containing " + quote(messageContains));
    }
    if (checksShadow) {
      parts.add(shadow == null ? "no shadow verdict" : "shadow: " + group(shadow.describe()));
    }
    return String.join(", ", parts);
  }

  /** The same fields of an actual decision, so the two lines read as a diff. */
  String describeActual(Decision d) {
    String s = describeActual(d.outcome(), d.policy(), d.rule(), d.message());
    if (checksShadow) {
      ShadowVerdict v = d.shadow();
      if (v == null) {
        s += ", no shadow verdict";
      } else if (shadow == null) {
        s += ", shadow: " + group(name(v.outcome()) + ", rule " + quote(v.rule()) + ", message "
            + quote(v.message()));
      } else {
        s += ", shadow: " + group(shadow.describeActual(v.outcome(), v.policy(), v.rule(),
            v.message()));
      }
    }
    return s;
  }

  private String describeActual(Outcome o, String p, String r, String m) {
    List<String> parts = new ArrayList<>();
    parts.add(name(o));
    if (checksRule) {
      parts.add(r == null ? "no rule" : "rule " + quote(r));
    }
    if (checksPolicy) {
      parts.add(p == null ? "no policy" : "policy " + quote(p));
    }
    if (message != null || messageContains != null) {
      parts.add("message " + quote(m));
    }
    return String.join(", ", parts);
  }

  /** Parenthesizes a nested description of several parts, so it reads as one field. */
  private static String group(String description) {
    return description.contains(", ") ? "(" + description + ")" : description;
  }

  static String name(Outcome o) {
    return o.name().toLowerCase(Locale.ROOT);
  }

  /** {@code "text"} with quotes, backslashes and line breaks escaped; {@code none} for null. */
  static String quote(String s) {
    if (s == null) {
      return "none";
    }
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        default:
          sb.append(c);
      }
    }
    return sb.append('"').toString();
  }
}
