package dev.saferun.internal.audit;

import dev.saferun.internal.json.Canonical;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Single-pass checks and formats for the writer's hot path. {@link #isCanonicalObject} decides,
 * without building a tree, whether text is a JSON object exactly as {@link Canonical#write}
 * writes it (so it can be embedded in a record and read back to the same text);
 * {@link Clock} formats instants as {@link Instant#toString()} does, caching the date and time
 * of the current second. Stateless, except {@link Clock} which is not thread-safe.
 */
final class CanonicalText {
  private static final int MAX_DEPTH = 512;

  private final String s;
  private int i;
  /** Whether the string {@link #skipString} last passed over had an escape. */
  private boolean escaped;

  private CanonicalText(String s) {
    this.s = s;
  }

  /**
   * Whether {@code text} is a JSON object in canonical form: no whitespace, keys strictly
   * ascending at every depth, numbers in their shortest exact form, strings escaped as
   * {@code Canonical} escapes them and free of unpaired surrogates.
   */
  static boolean isCanonicalObject(String text) {
    if (text.isEmpty() || text.charAt(0) != '{') {
      return false;
    }
    CanonicalText c = new CanonicalText(text);
    return c.object(0) && c.i == text.length();
  }

  private boolean value(int depth) {
    if (i >= s.length()) {
      return false;
    }
    char c = s.charAt(i);
    switch (c) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return skipString();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  private boolean object(int depth) {
    if (depth > MAX_DEPTH) {
      return false;
    }
    i++; // '{'
    if (i < s.length() && s.charAt(i) == '}') {
      i++;
      return true;
    }
    int previous = -1; // the opening quote of the previous key
    int previousEnd = -1; // and its closing quote
    boolean previousEscaped = false;
    while (true) {
      if (i >= s.length() || s.charAt(i) != '"') {
        return false;
      }
      int quote = i;
      if (!skipString()) {
        return false;
      }
      if (previous >= 0
          && compareKeys(previous, previousEnd, previousEscaped, quote, i - 1, escaped) >= 0) {
        return false;
      }
      previous = quote;
      previousEnd = i - 1;
      previousEscaped = escaped;
      if (i >= s.length() || s.charAt(i++) != ':' || !value(depth)) {
        return false;
      }
      if (i >= s.length()) {
        return false;
      }
      char c = s.charAt(i++);
      if (c == '}') {
        return true;
      }
      if (c != ',') {
        return false;
      }
    }
  }

  private boolean array(int depth) {
    if (depth > MAX_DEPTH) {
      return false;
    }
    i++; // '['
    if (i < s.length() && s.charAt(i) == ']') {
      i++;
      return true;
    }
    while (true) {
      if (!value(depth) || i >= s.length()) {
        return false;
      }
      char c = s.charAt(i++);
      if (c == ']') {
        return true;
      }
      if (c != ',') {
        return false;
      }
    }
  }

  /**
   * Compares two keys as {@link String#compareTo} compares their decoded values: in place when
   * neither has an escape (the common case, no allocation), by decoding them otherwise.
   */
  private int compareKeys(int a, int aEnd, boolean aEscaped, int b, int bEnd,
      boolean bEscaped) {
    if (!aEscaped && !bEscaped) {
      int la = aEnd - (a + 1);
      int lb = bEnd - (b + 1);
      int n = Math.min(la, lb);
      for (int k = 0; k < n; k++) {
        char ca = s.charAt(a + 1 + k);
        char cb = s.charAt(b + 1 + k);
        if (ca != cb) {
          return ca - cb;
        }
      }
      return la - lb;
    }
    int saved = i;
    i = a;
    String ka = string();
    i = b;
    String kb = string();
    i = saved;
    return ka.compareTo(kb);
  }

  /**
   * Passes over the string at {@code i} (a '"') as {@link #string} reads it, without decoding:
   * {@code false} if it is not canonical. Sets {@link #escaped}.
   */
  private boolean skipString() {
    i++;
    escaped = false;
    int n = s.length();
    while (i < n) {
      char c = s.charAt(i);
      if (c == '"') {
        i++;
        return true;
      }
      if (c < 0x20) {
        return false;
      }
      if (c == '\\') {
        escaped = true;
        if (i + 1 >= n) {
          return false;
        }
        char e = s.charAt(i + 1);
        if (e == '"' || e == '\\' || e == 'n' || e == 'r' || e == 't') {
          i += 2;
          continue;
        }
        if (e != 'u' || i + 6 > n || !s.startsWith("\\u00", i)) {
          return false;
        }
        int v = hex(s.charAt(i + 4)) * 16 + hex(s.charAt(i + 5));
        if (v < 0 || v >= 0x20 || v == '\n' || v == '\r' || v == '\t') {
          return false; // Canonical writes only other controls this way
        }
        i += 6;
        continue;
      }
      if (Character.isSurrogate(c)) {
        if (!Character.isHighSurrogate(c) || i + 1 >= n
            || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false; // would not survive UTF-8
        }
        i += 2;
        continue;
      }
      i++;
    }
    return false;
  }

  /** The decoded string at {@code i} (a '"'), or {@code null} if it is not canonical. */
  private String string() {
    int start = ++i;
    StringBuilder decoded = null;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '"') {
        String out = decoded == null ? s.substring(start, i) : decoded.toString();
        i++;
        return out;
      }
      if (c < 0x20) {
        return null;
      }
      if (Character.isSurrogate(c)) {
        if (!Character.isHighSurrogate(c) || i + 1 >= s.length()
            || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return null; // would not survive UTF-8
        }
        if (decoded != null) {
          decoded.append(c).append(s.charAt(i + 1));
        }
        i += 2;
        continue;
      }
      if (c != '\\') {
        if (decoded != null) {
          decoded.append(c);
        }
        i++;
        continue;
      }
      if (decoded == null) {
        decoded = new StringBuilder(s.length() - start).append(s, start, i);
      }
      if (i + 1 >= s.length()) {
        return null;
      }
      char e = s.charAt(i + 1);
      switch (e) {
        case '"':
        case '\\':
          decoded.append(e);
          i += 2;
          break;
        case 'n':
          decoded.append('\n');
          i += 2;
          break;
        case 'r':
          decoded.append('\r');
          i += 2;
          break;
        case 't':
          decoded.append('\t');
          i += 2;
          break;
        case 'u':
          if (i + 6 > s.length() || !s.startsWith("\\u00", i)) {
            return null;
          }
          int v = hex(s.charAt(i + 4)) * 16 + hex(s.charAt(i + 5));
          if (v < 0 || v >= 0x20 || v == '\n' || v == '\r' || v == '\t') {
            return null; // Canonical writes only other controls this way
          }
          decoded.append((char) v);
          i += 6;
          break;
        default:
          return null;
      }
    }
    return null;
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return -1000; // uppercase hex is not what Canonical writes
  }

  private boolean literal(String word) {
    if (s.startsWith(word, i)) {
      i += word.length();
      return true;
    }
    return false;
  }

  private boolean number() {
    int start = i;
    int n = s.length();
    while (i < n && numberChar(s.charAt(i))) {
      i++;
    }
    if (i == start) {
      return false;
    }
    if (simpleInteger(s, start, i)) {
      return true;
    }
    String token = s.substring(start, i);
    try {
      return Canonical.number(new BigDecimal(token)).equals(token);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static boolean numberChar(char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'E' || c == 'e';
  }

  /** {@code t[from, to)} is {@code 0} or {@code -?[1-9][0-9]{0,17}}: canonical as it is. */
  private static boolean simpleInteger(String t, int from, int to) {
    if (to - from == 1 && t.charAt(from) == '0') {
      return true;
    }
    int k = t.charAt(from) == '-' ? from + 1 : from;
    int digits = to - k;
    if (digits < 1 || digits > 18 || t.charAt(k) < '1' || t.charAt(k) > '9') {
      return false;
    }
    for (int j = k + 1; j < to; j++) {
      if (t.charAt(j) < '0' || t.charAt(j) > '9') {
        return false;
      }
    }
    return true;
  }

  /** Formats instants like {@link Instant#toString()}; not thread-safe (caches one second). */
  static final class Clock {
    private long second = Long.MIN_VALUE;
    private String prefix;

    void append(Utf8Out sb, Instant t) {
      long sec = t.getEpochSecond();
      if (sec != second) {
        LocalDateTime d = LocalDateTime.ofEpochSecond(sec, 0, ZoneOffset.UTC);
        if (d.getYear() < 0 || d.getYear() > 9999) {
          sb.ascii(t.toString());
          return;
        }
        String full = Instant.ofEpochSecond(sec).toString(); // yyyy-MM-ddTHH:mm:ssZ
        prefix = full.substring(0, full.length() - 1);
        second = sec;
      }
      sb.ascii(prefix);
      int nanos = t.getNano();
      if (nanos != 0) {
        sb.put('.');
        if (nanos % 1_000_000 == 0) {
          pad(sb, nanos / 1_000_000, 3);
        } else if (nanos % 1000 == 0) {
          pad(sb, nanos / 1000, 6);
        } else {
          pad(sb, nanos, 9);
        }
      }
      sb.put('Z');
    }

    private static void pad(Utf8Out sb, int v, int width) {
      for (int p = 10, k = 1; k < width; k++, p *= 10) {
        if (v < p) {
          sb.put('0');
        }
      }
      sb.number(v);
    }
  }
}
