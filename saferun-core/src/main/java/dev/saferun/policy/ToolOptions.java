package dev.saferun.policy;

import java.time.Duration;
import java.util.List;

/**
 * Per-tool controls beside the rules (a SafeRun extension): argument schema checking, an error
 * breaker, and limits on what the tool returns to the model. A {@code "*"} entry gives defaults
 * for every tool; a tool's own entry wins.
 *
 * <p>Immutable and thread-safe.
 *
 * @param schema {@code STRICT} (arguments must match the tool's registered JSON schema, no
 *     unexpected properties), {@code OFF}, or {@code null} to inherit the policy's default
 * @param breaker the error breaker, or {@code null}
 * @param result controls on the tool's result, or {@code null}
 */
public record ToolOptions(SchemaMode schema, Breaker breaker, ResultControls result) {

  /** No options. */
  public static final ToolOptions NONE = new ToolOptions(null, null, null);

  /** Whether arguments are checked against the tool's JSON schema. */
  public enum SchemaMode { STRICT, OFF }

  /**
   * Trips after {@code failures} failures (exceptions or error results) within {@code window};
   * while open, calls are denied; after {@code cooldown} one probe call is let through.
   *
   * @param failures failures that open the breaker (≥ 1)
   * @param window the rolling window they are counted in
   * @param cooldown how long the breaker stays open before a probe
   */
  public record Breaker(int failures, Duration window, Duration cooldown) {}

  /**
   * Limits on a tool's result before the model sees it.
   *
   * @param maxChars the longest result passed on (longer ones are cut, with a note), or null
   * @param redactPatterns RE2 patterns whose matches are replaced by {@code ***}
   */
  public record ResultControls(Integer maxChars, List<String> redactPatterns) {
    public ResultControls {
      redactPatterns = List.copyOf(redactPatterns);
    }
  }

  /** This entry with unset parts taken from {@code defaults}. */
  public ToolOptions orElse(ToolOptions defaults) {
    if (defaults == null) {
      return this;
    }
    return new ToolOptions(schema != null ? schema : defaults.schema,
        breaker != null ? breaker : defaults.breaker,
        result != null ? result : defaults.result);
  }
}
