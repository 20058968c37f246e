package dev.saferun.policy;

import java.util.Objects;

/**
 * One condition of a rule: a path, an operator and a value (SPEC §3). Values are already
 * type-checked: numbers are exact {@link java.math.BigDecimal}s, lists are unmodifiable lists of
 * scalars ({@code String}, {@code BigDecimal}, {@code Boolean}).
 *
 * <p>Immutable and thread-safe.
 *
 * @param path {@code args.…}, {@code context.…} or {@code state.<scope>.<counter>}
 * @param op the operator
 * @param value the operand
 * @param location where it was written
 */
public record Condition(String path, Op op, Object value, SourceLocation location) {
  public Condition {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(value, "value");
  }

  @Override
  public String toString() {
    return path + " " + op + " " + value;
  }
}
