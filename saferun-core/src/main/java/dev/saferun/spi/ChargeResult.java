package dev.saferun.spi;

import java.util.Objects;

/**
 * The result of an all-or-nothing {@link StateStore#charge}: either every counter was charged
 * (with a receipt) or none was (with the index of the first charge that did not fit).
 *
 * <p>Immutable and thread-safe.
 *
 * @param receipt the receipt when charged, else {@code null}
 * @param refusedIndex the index in the request of the first charge over its limit, or -1
 */
public record ChargeResult(ChargeReceipt receipt, int refusedIndex) {

  public static ChargeResult charged(ChargeReceipt receipt) {
    return new ChargeResult(Objects.requireNonNull(receipt, "receipt"), -1);
  }

  public static ChargeResult refused(int index) {
    if (index < 0) {
      throw new IllegalArgumentException("refused index must be >= 0");
    }
    return new ChargeResult(null, index);
  }

  public boolean isCharged() {
    return refusedIndex < 0;
  }
}
