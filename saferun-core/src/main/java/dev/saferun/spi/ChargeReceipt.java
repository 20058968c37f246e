package dev.saferun.spi;

import java.math.BigDecimal;
import java.util.List;

/**
 * What one call charged, so the charges can be refunded if the tool fails.
 *
 * <p>Immutable and thread-safe.
 *
 * @param entries the charges, each with the instant it was made
 */
public record ChargeReceipt(List<Entry> entries) {

  /** A receipt for a call that charged nothing. */
  public static final ChargeReceipt NONE = new ChargeReceipt(List.of());

  public ChargeReceipt {
    entries = List.copyOf(entries);
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  /**
   * One charged counter.
   *
   * @param key the counter
   * @param amount the amount added
   * @param chargedAtMillis wall-clock instant of the charge; a refund takes the amount back from
   *     the bucket it went into, if that bucket is still live
   */
  public record Entry(CounterKey key, BigDecimal amount, long chargedAtMillis) {}
}
