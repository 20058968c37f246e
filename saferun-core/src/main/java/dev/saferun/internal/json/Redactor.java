package dev.saferun.internal.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;

/** Masks {@code redact:} paths with {@code "***"} in a copy of the arguments. Stateless. */
public final class Redactor {
  /** The mask that replaces a redacted value. */
  public static final String MASK = "***";

  private Redactor() {}

  /**
   * A copy of {@code args} with every path in {@code paths} (the part after {@code args.})
   * replaced by {@code "***"}; {@code args} itself is returned when there is nothing to mask.
   */
  public static JsonNode redact(ObjectNode args, List<ArgPath> paths) {
    if (paths.isEmpty()) {
      return args;
    }
    ObjectNode copy = args.deepCopy();
    for (ArgPath p : paths) {
      p.replace(copy, TextNode.valueOf(MASK));
    }
    return copy;
  }

}
