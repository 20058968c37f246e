package dev.saferun.policy;

/** Whether a policy or rule decides ({@code enforce}) or only reports ({@code shadow}, SPEC §7). */
public enum Mode {
  ENFORCE("enforce"),
  SHADOW("shadow");

  private final String yamlName;

  Mode(String yamlName) {
    this.yamlName = yamlName;
  }

  public String yamlName() {
    return yamlName;
  }

  static Mode fromYaml(String name) {
    for (Mode m : values()) {
      if (m.yamlName.equals(name)) {
        return m;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return yamlName;
  }
}
