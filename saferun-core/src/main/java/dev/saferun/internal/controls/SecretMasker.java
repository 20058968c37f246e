package dev.saferun.internal.controls;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Replaces known secret values with {@code ***} in any text, raw or JSON-escaped. Values shorter
 * than {@link #MIN_LENGTH} are not masked (they would mangle ordinary text). Thread-safe.
 */
public final class SecretMasker {
  /** Shortest secret value that is masked. */
  public static final int MIN_LENGTH = 6;
  private static final String MASK = "***";

  private final Set<String> values = ConcurrentHashMap.newKeySet();

  /** Remembers a value to mask from now on. */
  public void add(String value) {
    if (value != null && value.length() >= MIN_LENGTH) {
      values.add(value);
      String escaped = jsonEscape(value);
      if (!escaped.equals(value)) {
        values.add(escaped);
      }
    }
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  /** The text with every known value masked; the same instance when nothing matched. */
  public String mask(String text) {
    if (text == null || values.isEmpty()) {
      return text;
    }
    String out = text;
    for (String v : values) {
      if (out.contains(v)) {
        out = out.replace(v, MASK);
      }
    }
    return out;
  }

  private static String jsonEscape(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }
}
