package dev.saferun.internal.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;

/**
 * Canonical JSON: object keys sorted at every depth, no whitespace, numbers in their shortest
 * exact decimal form ({@code 50.0} and {@code 50} are the same). Two argument sets are
 * "identical" (loop breaker) and an approval is bound to arguments by this form's sha-256. Stateless.
 */
public final class Canonical {
  /** A never-used digest to clone: cheaper than a provider lookup on every audited call. */
  private static final MessageDigest SHA256 = newDigest();

  private Canonical() {}

  /** The canonical text of a JSON value. */
  public static String write(JsonNode node) {
    return write(node, 64);
  }

  /**
   * The canonical text of a JSON value whose text is expected to be about {@code sizeHint}
   * characters (the JSON it was parsed from): the buffer is sized once instead of grown.
   */
  public static String write(JsonNode node, int sizeHint) {
    StringBuilder sb = new StringBuilder(Math.max(16, Math.min(sizeHint, 1 << 20)));
    write(node, sb);
    return sb.toString();
  }

  /** sha-256 (hex) of the canonical text. */
  public static String sha256(JsonNode node) {
    return sha256(write(node));
  }

  /** sha-256 (hex) of a string's UTF-8 bytes. */
  public static String sha256(String text) {
    return HexFormat.of().formatHex(digest().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  private static MessageDigest digest() {
    try {
      return (MessageDigest) SHA256.clone();
    } catch (CloneNotSupportedException e) {
      return newDigest(); // a provider whose digest cannot be cloned
    }
  }

  private static void write(JsonNode node, StringBuilder sb) {
    JsonNodeType t = node.getNodeType();
    switch (t) {
      case OBJECT:
        List<String> keys = new ArrayList<>();
        Iterator<String> it = node.fieldNames();
        while (it.hasNext()) {
          keys.add(it.next());
        }
        Collections.sort(keys);
        sb.append('{');
        for (int i = 0; i < keys.size(); i++) {
          if (i > 0) {
            sb.append(',');
          }
          string(keys.get(i), sb);
          sb.append(':');
          write(node.get(keys.get(i)), sb);
        }
        sb.append('}');
        break;
      case ARRAY:
        sb.append('[');
        for (int i = 0; i < node.size(); i++) {
          if (i > 0) {
            sb.append(',');
          }
          write(node.get(i), sb);
        }
        sb.append(']');
        break;
      case STRING:
        string(node.textValue(), sb);
        break;
      case NUMBER:
        sb.append(number(node.decimalValue()));
        break;
      case BOOLEAN:
        sb.append(node.booleanValue());
        break;
      default:
        sb.append("null");
    }
  }

  /** The shortest exact decimal text of a number. */
  public static String number(BigDecimal d) {
    if (d.signum() == 0) {
      return "0";
    }
    BigDecimal s = d.stripTrailingZeros();
    return s.scale() <= 0 && s.precision() - s.scale() <= 40 ? s.toPlainString() : s.toString();
  }

  private static void string(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '\t':
          sb.append("\\t");
          break;
        default:
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }

}
