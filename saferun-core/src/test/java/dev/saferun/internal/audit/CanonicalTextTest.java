package dev.saferun.internal.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.saferun.internal.json.Canonical;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The writer's single-pass canonical check agrees with parse + Canonical.write. */
class CanonicalTextTest {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();
  private static final String[] STRINGS = {"", "a", "é", "日本", "😀", "q\"", "b\\s", "n\nl",
      "c\u0001", "\u001f", "\u2028", "\ud800", "\udc00x", "/", "\u007f"};

  /** The slow, obviously right definition. */
  private static boolean oracle(String text) {
    try {
      JsonNode n = JSON.readTree(text);
      return n != null && n.isObject() && Canonical.write(n).equals(text)
          && !hasLoneSurrogate(text);
    } catch (Exception e) {
      return false;
    }
  }

  private static boolean hasLoneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  private static JsonNode random(Random r, int depth) {
    int kind = depth > 3 ? 2 + r.nextInt(4) : r.nextInt(6);
    switch (kind) {
      case 0:
        ObjectNode o = JSON.createObjectNode();
        for (int k = r.nextInt(4); k > 0; k--) {
          o.set(STRINGS[r.nextInt(STRINGS.length)] + r.nextInt(3), random(r, depth + 1));
        }
        return o;
      case 1:
        ArrayNode a = JSON.createArrayNode();
        for (int k = r.nextInt(4); k > 0; k--) {
          a.add(random(r, depth + 1));
        }
        return a;
      case 2:
        return JSON.getNodeFactory().textNode(STRINGS[r.nextInt(STRINGS.length)]);
      case 3:
        return JSON.getNodeFactory().numberNode(new BigDecimal(r.nextInt(2_000_001) - 1_000_000)
            .movePointLeft(r.nextInt(8) - 2));
      case 4:
        return JSON.getNodeFactory().booleanNode(r.nextBoolean());
      default:
        return JSON.getNodeFactory().nullNode();
    }
  }

  @Test
  void agreesWithTheOracleOnCanonicalTextAndOnMutations() {
    Random r = new Random(11);
    String noise = "{}[],:\" \\0123456789.eE+-tfnu";
    int canonical = 0;
    for (int round = 0; round < 20_000; round++) {
      ObjectNode o = JSON.createObjectNode();
      for (int k = r.nextInt(5); k > 0; k--) {
        o.set("k" + r.nextInt(20) + STRINGS[r.nextInt(STRINGS.length)], random(r, 1));
      }
      String text = Canonical.write(o);
      if (round % 2 == 1 && !text.isEmpty()) { // a one-character mutation
        StringBuilder sb = new StringBuilder(text);
        int at = r.nextInt(sb.length());
        switch (r.nextInt(3)) {
          case 0:
            sb.deleteCharAt(at);
            break;
          case 1:
            sb.insert(at, noise.charAt(r.nextInt(noise.length())));
            break;
          default:
            sb.setCharAt(at, noise.charAt(r.nextInt(noise.length())));
        }
        text = sb.toString();
      }
      boolean expected = oracle(text);
      canonical += expected ? 1 : 0;
      assertThat(CanonicalText.isCanonicalObject(text)).as("%s", text).isEqualTo(expected);
    }
    assertThat(canonical).isBetween(5_000, 15_000);
  }

  @Test
  void handWrittenCases() {
    assertThat(CanonicalText.isCanonicalObject("{}")).isTrue();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":1,\"b\":[1.5,\"x\",null,true]}")).isTrue();
    assertThat(CanonicalText.isCanonicalObject("{\"b\":1,\"a\":2}")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":1,\"a\":2}")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":1.50}")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":-0}")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":1E+41}")).isTrue();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":1}\n{\"n\":1}")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":1},\"type\":\"ALLOWED\"")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{ }")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":\"\\u001f\"}")).isTrue();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":\"\\u001F\"}")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":\"\\u000a\"}")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":\"\ud800\"}")).isFalse();
    assertThat(CanonicalText.isCanonicalObject("{\"a\":" + "[".repeat(600) + "]".repeat(600)
        + "}")).isFalse();
  }

  @Test
  void instantsAreFormattedAsInstantToStringDoes() {
    CanonicalText.Clock clock = new CanonicalText.Clock();
    Random r = new Random(3);
    for (int i = 0; i < 10_000; i++) {
      long sec = 1_768_473_000L + r.nextInt(5);
      int nanos = switch (r.nextInt(4)) {
        case 0 -> 0;
        case 1 -> r.nextInt(1000) * 1_000_000;
        case 2 -> r.nextInt(1_000_000) * 1000;
        default -> r.nextInt(1_000_000_000);
      };
      Instant t = Instant.ofEpochSecond(sec, nanos);
      Utf8Out sb = new Utf8Out();
      clock.append(sb, t);
      assertThat(sb.toString()).isEqualTo(t.toString());
    }
    Utf8Out far = new Utf8Out();
    clock.append(far, Instant.parse("+12026-01-01T00:00:00Z"));
    assertThat(far.toString()).isEqualTo("+12026-01-01T00:00:00Z");
  }
}
