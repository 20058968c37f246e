package dev.saferun.spi;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * One counter increment requested by an allowed call, with the limit it must respect.
 *
 * <p>Immutable and thread-safe.
 *
 * @param key the counter
 * @param amount the increment, exact, {@code > 0}
 * @param limit the limit on the counter's value after the increment, or {@code null} for none
 * @param inclusive {@code true} when the value may equal the limit ({@code lte}), {@code false}
 *     when it must stay below it ({@code lt})
 */
public record Charge(CounterKey key, BigDecimal amount, BigDecimal limit, boolean inclusive) {

  public Charge {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(amount, "amount");
    if (amount.signum() < 0) {
      throw new IllegalArgumentException("charge amount must be >= 0, got " + amount);
    }
  }

  /** Whether {@code current + amount} respects the limit. */
  public boolean fits(BigDecimal current) {
    if (limit == null) {
      return true;
    }
    int cmp = current.add(amount).compareTo(limit);
    return inclusive ? cmp <= 0 : cmp < 0;
  }
}
