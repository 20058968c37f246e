package dev.saferun.internal.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The writer's byte rendering writes exactly what String.getBytes(UTF_8) and Long.toString do. */
class Utf8OutTest {
  private static final char[] ALPHABET = {'a', 'Z', '0', ' ', '"', '\\', '\n', '\u0001', 'é',
      '\u00ff', '\u0100', '€', '\u2028', '\ud83d', '\ude00', '\uffff'};

  @Test
  void textIsUtf8AsStringGetBytesWritesIt() {
    Random r = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      char[] cs = new char[r.nextInt(40)];
      for (int k = 0; k < cs.length; k++) {
        cs[k] = ALPHABET[r.nextInt(ALPHABET.length)];
      }
      String s = new String(cs);
      int from = s.isEmpty() ? 0 : r.nextInt(s.length());
      Utf8Out out = new Utf8Out();
      out.ascii("x").text(s, 0, s.length()).text(s, from, s.length());
      // Each piece encoded on its own: a surrogate split across pieces is unpaired.
      byte[] whole = s.getBytes(StandardCharsets.UTF_8);
      byte[] tail = s.substring(from).getBytes(StandardCharsets.UTF_8);
      byte[] expected = new byte[1 + whole.length + tail.length];
      expected[0] = 'x';
      System.arraycopy(whole, 0, expected, 1, whole.length);
      System.arraycopy(tail, 0, expected, 1 + whole.length, tail.length);
      assertThat(Arrays.copyOf(out.buffer(), out.length())).as("%s", s).isEqualTo(expected);
    }
  }

  @Test
  void numbersAreWrittenAsLongToStringWritesThem() {
    long[] values = {0, 1, 9, 10, 99, 100, -1, -10, 123_456_789, 999_999_999_999_999_999L,
        1_000_000_000_000_000_000L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1};
    for (long v : values) {
      assertThat(new Utf8Out().number(v).toString()).isEqualTo(Long.toString(v));
    }
    Random r = new Random(11);
    for (int i = 0; i < 10_000; i++) {
      long v = r.nextLong() >> r.nextInt(64);
      assertThat(new Utf8Out().number(v).toString()).isEqualTo(Long.toString(v));
    }
  }

  @Test
  void theBufferGrows() {
    Utf8Out out = new Utf8Out();
    String big = "é".repeat(5000) + "a".repeat(5000);
    out.text(big, 0, big.length());
    assertThat(out.toString()).isEqualTo(big);
  }
}
