package dev.saferun.internal.audit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte buffer that the writer renders record bodies into, as UTF-8, so that an event
 * costs no intermediate String or byte array. Writes exactly what {@code String.getBytes(UTF_8)}
 * would (an unpaired surrogate becomes {@code '?'}). Reused; not thread-safe.
 */
final class Utf8Out {
  private byte[] buf = new byte[1024];
  private int len;

  void reset() {
    len = 0;
  }

  byte[] buffer() {
    return buf;
  }

  int length() {
    return len;
  }

  private void ensure(int extra) {
    if (len + extra > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
    }
  }

  Utf8Out put(char asciiChar) {
    ensure(1);
    buf[len++] = (byte) asciiChar;
    return this;
  }

  /** Appends text known to be ASCII (literals, enum names, formatted numbers). */
  Utf8Out ascii(String s) {
    return ascii(s, 0, s.length());
  }

  /** Appends {@code s[from, to)}, known to be ASCII, in one bulk copy. */
  @SuppressWarnings("deprecation") // getBytes(int, int, byte[], int) is the bulk copy we want
  Utf8Out ascii(String s, int from, int to) {
    int n = to - from;
    ensure(n);
    s.getBytes(from, to, buf, len);
    len += n;
    return this;
  }

  /** Appends a number as {@link Long#toString(long)} writes it. */
  Utf8Out number(long v) {
    if (v == Long.MIN_VALUE) {
      return ascii("-9223372036854775808");
    }
    if (v < 0) {
      put('-');
      v = -v;
    }
    int digits = 1;
    for (long p = 10; digits < 19 && v >= p; p *= 10) {
      digits++;
    }
    ensure(digits);
    for (int k = len + digits - 1; k >= len; k--) {
      buf[k] = (byte) ('0' + (v % 10));
      v /= 10;
    }
    len += digits;
    return this;
  }

  /** Appends {@code s[from, to)} encoded as UTF-8: ASCII runs in bulk, the rest char by char. */
  Utf8Out text(String s, int from, int to) {
    int i = from;
    while (i < to && s.charAt(i) < 0x80) {
      i++;
    }
    ascii(s, from, i);
    if (i == to) {
      return this;
    }
    ensure(3 * (to - i));
    while (i < to) {
      char c = s.charAt(i++);
      if (c < 0x80) {
        buf[len++] = (byte) c;
      } else if (c < 0x800) {
        buf[len++] = (byte) (0xc0 | (c >> 6));
        buf[len++] = (byte) (0x80 | (c & 0x3f));
      } else if (Character.isHighSurrogate(c) && i < to && Character.isLowSurrogate(s.charAt(i))) {
        int cp = Character.toCodePoint(c, s.charAt(i++));
        buf[len++] = (byte) (0xf0 | (cp >> 18));
        buf[len++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
        buf[len++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
        buf[len++] = (byte) (0x80 | (cp & 0x3f));
      } else if (Character.isSurrogate(c)) {
        buf[len++] = '?'; // as String.getBytes(UTF_8) does
      } else {
        buf[len++] = (byte) (0xe0 | (c >> 12));
        buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        buf[len++] = (byte) (0x80 | (c & 0x3f));
      }
    }
    return this;
  }

  /** The content as text (for tests). */
  @Override
  public String toString() {
    return new String(buf, 0, len, StandardCharsets.UTF_8);
  }
}
