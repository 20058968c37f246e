package dev.saferun.internal.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A compiled {@code args.} path: object keys and {@code [n]} array indexes, resolved against a
 * Jackson tree without allocating. Immutable and thread-safe.
 */
public final class ArgPath {
  private final String text;
  private final String[] keys;   // null where the step is an index
  private final int[] indexes;   // -1 where the step is a key

  private ArgPath(String text, String[] keys, int[] indexes) {
    this.text = text;
    this.keys = keys;
    this.indexes = indexes;
  }

  /**
   * Parses the part after {@code args.}: {@code a.b[0].c}. Bracket syntax only for indexes;
   * {@code items.0} is the key "0".
   *
   * @throws IllegalArgumentException with a message that says what is wrong
   */
  public static ArgPath parse(String full, String rest) {
    List<String> ks = new ArrayList<>();
    List<Integer> is = new ArrayList<>();
    int i = 0;
    int n = rest.length();
    if (n == 0) {
      throw new IllegalArgumentException("path '" + full + "' names no argument");
    }
    boolean expectKey = true;
    while (i < n) {
      char c = rest.charAt(i);
      if (c == '[') {
        int close = rest.indexOf(']', i);
        if (close < 0) {
          throw new IllegalArgumentException("path '" + full + "' has an unclosed '['");
        }
        String digits = rest.substring(i + 1, close);
        if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(Character::isDigit)) {
          throw new IllegalArgumentException(
              "path '" + full + "' has a bad index '[" + digits + "]' (use [0], [1], …)");
        }
        if (expectKey && ks.isEmpty()) {
          throw new IllegalArgumentException("path '" + full + "' must start with a key");
        }
        ks.add(null);
        is.add(Integer.parseInt(digits));
        i = close + 1;
        expectKey = false;
        if (i < n && rest.charAt(i) != '.' && rest.charAt(i) != '[') {
          throw new IllegalArgumentException("path '" + full + "' needs '.' after ']'");
        }
      } else if (c == '.') {
        if (expectKey) {
          throw new IllegalArgumentException("path '" + full + "' has an empty key");
        }
        i++;
        expectKey = true;
        if (i == n) {
          throw new IllegalArgumentException("path '" + full + "' ends with '.'");
        }
      } else {
        if (!expectKey) {
          throw new IllegalArgumentException("path '" + full + "' needs '.' before a key");
        }
        int j = i;
        while (j < n && rest.charAt(j) != '.' && rest.charAt(j) != '[') {
          if (rest.charAt(j) == ']') {
            throw new IllegalArgumentException("path '" + full + "' has a stray ']'");
          }
          j++;
        }
        ks.add(rest.substring(i, j));
        is.add(-1);
        i = j;
        expectKey = false;
      }
    }
    int[] idx = new int[is.size()];
    for (int k = 0; k < idx.length; k++) {
      idx[k] = is.get(k);
    }
    return new ArgPath(full, ks.toArray(new String[0]), idx);
  }

  /** Resolves the path; {@code null} when missing (absent, wrong shape, out of range, JSON null). */
  public JsonNode resolve(JsonNode root) {
    JsonNode node = root;
    for (int s = 0; s < keys.length; s++) {
      if (node == null) {
        return null;
      }
      if (keys[s] != null) {
        node = node.isObject() ? node.get(keys[s]) : null;
      } else {
        node = node.isArray() ? node.get(indexes[s]) : null;
      }
    }
    return node == null || node.isNull() || node.isMissingNode() ? null : node;
  }

  /** Replaces the value at this path, if it resolves, with {@code replacement}. */
  public void replace(JsonNode root, JsonNode replacement) {
    JsonNode node = root;
    for (int s = 0; s < keys.length - 1; s++) {
      if (node == null) {
        return;
      }
      node = keys[s] != null ? (node.isObject() ? node.get(keys[s]) : null)
          : (node.isArray() ? node.get(indexes[s]) : null);
    }
    if (node == null) {
      return;
    }
    int last = keys.length - 1;
    if (keys[last] != null && node.isObject() && node.has(keys[last])) {
      ((com.fasterxml.jackson.databind.node.ObjectNode) node).set(keys[last], replacement);
    } else if (keys[last] == null && node.isArray() && indexes[last] < node.size()) {
      ((com.fasterxml.jackson.databind.node.ArrayNode) node).set(indexes[last], replacement);
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
