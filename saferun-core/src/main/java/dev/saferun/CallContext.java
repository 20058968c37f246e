package dev.saferun;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The string attributes of one tool call: who is calling, where, on whose behalf. Policies read
 * them as {@code context.<key>}, scope themselves with {@code match:} and key counters with
 * {@code per:}. Well-known keys are {@link #AGENT}, {@link #ENVIRONMENT}, {@link #USER},
 * {@link #TENANT} and {@link #RUN}; adapters fill what they know and the host sets the rest.
 *
 * <p>Immutable and thread-safe. {@link #with} returns a new context.
 */
public final class CallContext {
  public static final String AGENT = "agent";
  public static final String ENVIRONMENT = "environment";
  public static final String USER = "user";
  public static final String TENANT = "tenant";
  public static final String RUN = "run";

  private static final CallContext EMPTY = new CallContext(Map.of());

  private final Map<String, String> attributes;

  private CallContext(Map<String, String> attributes) {
    this.attributes = attributes;
  }

  /** The context with no attributes. */
  public static CallContext empty() {
    return EMPTY;
  }

  /**
   * A context with the given attributes (copied).
   *
   * @throws NullPointerException if a key or value is null
   */
  public static CallContext of(Map<String, String> attributes) {
    if (attributes.isEmpty()) {
      return EMPTY;
    }
    Map<String, String> copy = new LinkedHashMap<>();
    attributes.forEach((k, v) -> copy.put(
        Objects.requireNonNull(k, "context key"),
        Objects.requireNonNull(v, () -> "context value for '" + k + "'")));
    return new CallContext(Collections.unmodifiableMap(copy));
  }

  /** A context from alternating keys and values: {@code of("agent", "support", "user", "u1")}. */
  public static CallContext of(String... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("CallContext.of needs key/value pairs, got "
          + keysAndValues.length + " strings");
    }
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return of(map);
  }

  /** This context with one attribute added or replaced. */
  public CallContext with(String key, String value) {
    Map<String, String> copy = new LinkedHashMap<>(attributes);
    copy.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return new CallContext(Collections.unmodifiableMap(copy));
  }

  /** This context with every attribute of {@code other} added, {@code other} winning on clashes. */
  public CallContext merge(CallContext other) {
    if (other.attributes.isEmpty()) {
      return this;
    }
    if (attributes.isEmpty()) {
      return other;
    }
    Map<String, String> copy = new LinkedHashMap<>(attributes);
    copy.putAll(other.attributes);
    return new CallContext(Collections.unmodifiableMap(copy));
  }

  /** The attribute's value, or {@code null} when absent. */
  public String get(String key) {
    return attributes.get(key);
  }

  /** All attributes, unmodifiable, in insertion order. */
  public Map<String, String> asMap() {
    return attributes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CallContext && ((CallContext) o).attributes.equals(attributes);
  }

  @Override
  public int hashCode() {
    return attributes.hashCode();
  }

  @Override
  public String toString() {
    return attributes.toString();
  }
}
