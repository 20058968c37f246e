package dev.saferun.policy;

/**
 * Condition operators (SPEC §3). For every operator except {@link #EXISTS}, a missing path makes
 * the condition false.
 */
public enum Op {
  /** Equal; numbers compare numerically, different JSON types are never equal. */
  EQ("eq"),
  /** Not equal; false on a missing path. */
  NEQ("neq"),
  /** Equal to some element of the list. */
  IN("in"),
  /** Equal to no element of the list; false on a missing path. */
  NOT_IN("not_in"),
  /** A JSON number below the value. */
  LT("lt"),
  /** A JSON number at most the value. */
  LTE("lte"),
  /** A JSON number above the value. */
  GT("gt"),
  /** A JSON number at least the value. */
  GTE("gte"),
  /** A string matched anywhere by the RE2 pattern. */
  REGEX("regex"),
  /** A string containing the value, or a list with an element equal to it. */
  CONTAINS("contains"),
  /** Whether the path resolves to a non-null value. */
  EXISTS("exists");

  private final String yamlName;

  Op(String yamlName) {
    this.yamlName = yamlName;
  }

  /** The operator as written in YAML. */
  public String yamlName() {
    return yamlName;
  }

  /** The operator for a YAML name, or {@code null}. */
  public static Op fromYaml(String name) {
    for (Op op : values()) {
      if (op.yamlName.equals(name)) {
        return op;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return yamlName;
  }
}
