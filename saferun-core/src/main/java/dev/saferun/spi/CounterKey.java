package dev.saferun.spi;

import dev.saferun.policy.Window;
import java.util.Objects;

/**
 * The identity of one counter: {@code <scope>.<counter>}, its window, the values of its
 * {@code per:} attributes, and whether it is a shadow counter. A counter survives a policy reload
 * as long as its key is unchanged.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name {@code <scope>.<counter>}, e.g. {@code create_refund.daily_total}
 * @param window the window
 * @param per the {@code per:} values, e.g. {@code user=u1}; empty when the counter is not split
 * @param shadow {@code true} for counters of shadow rules, kept in their own namespace
 * @param storageKey a string that identifies the counter in a store
 */
public record CounterKey(String name, Window window, String per, boolean shadow,
    String storageKey) {

  public CounterKey {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(window, "window");
    Objects.requireNonNull(per, "per");
    Objects.requireNonNull(storageKey, "storageKey");
  }

  /** Builds a key and its storage key ({@code [shadow:]name|window|per}). */
  public static CounterKey of(String name, Window window, String per, boolean shadow) {
    String storage = (shadow ? "shadow:" : "") + name + '|' + window.text() + '|' + per;
    return new CounterKey(name, window, per, shadow, storage);
  }

  @Override
  public String toString() {
    return storageKey;
  }
}
