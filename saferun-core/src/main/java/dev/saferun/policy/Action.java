package dev.saferun.policy;

/** What a rule does (SPEC §2). */
public enum Action {
  /** Every condition must hold, otherwise the rule denies. */
  EVALUATE("evaluate"),
  /** Denies always, or when all its conditions hold. */
  DENY("deny"),
  /** Holds the call for a human always, or when all its conditions hold. */
  REQUIRE_APPROVAL("require_approval");

  private final String yamlName;

  Action(String yamlName) {
    this.yamlName = yamlName;
  }

  public String yamlName() {
    return yamlName;
  }

  static Action fromYaml(String name) {
    for (Action a : values()) {
      if (a.yamlName.equals(name)) {
        return a;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return yamlName;
  }
}
