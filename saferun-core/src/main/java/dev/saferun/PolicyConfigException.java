package dev.saferun;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A policy could not be loaded or built. Lists every problem found in one pass, each with its
 * source, line, column and key path, so a user fixes a file in one go. Immutable.
 */
public class PolicyConfigException extends SafeRunException {
  private static final long serialVersionUID = 1L;

  private final transient List<Problem> problems;

  public PolicyConfigException(List<Problem> problems) {
    super(render(problems));
    this.problems = List.copyOf(problems);
  }

  /** Every problem found, errors and warnings, in source order. */
  public List<Problem> problems() {
    return problems;
  }

  private static String render(List<Problem> problems) {
    return problems.stream().map(Problem::toString).collect(Collectors.joining("\n"));
  }

  /**
   * One problem in a policy.
   *
   * @param source the file name (or another label for policies not read from a file)
   * @param line 1-based line, or 0 when unknown (policies built in Java)
   * @param column 1-based column, or 0 when unknown
   * @param key the key path, e.g. {@code tools.create_refund.rules[0].conditions[1].op}
   * @param message what is wrong, and how to fix it where we can tell
   * @param warning {@code true} for a warning, which does not stop a policy from loading
   */
  public record Problem(String source, int line, int column, String key, String message,
      boolean warning) {

    /** {@code file:line:col: message}, with {@code warning: } before a warning's message. */
    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder(source == null ? "<policy>" : source);
      if (line > 0) {
        sb.append(':').append(line).append(':').append(column);
      }
      sb.append(": ");
      if (warning) {
        sb.append("warning: ");
      }
      sb.append(message);
      if (key != null && !key.isEmpty() && !message.contains(key)) {
        sb.append(" (at ").append(key).append(')');
      }
      return sb.toString();
    }
  }
}
