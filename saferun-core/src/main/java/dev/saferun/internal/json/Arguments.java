package dev.saferun.internal.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * Parses tool arguments with limits: size, nesting depth, duplicate keys and non-finite numbers
 * are refused with a reason instead of throwing into the host. Numbers with a fraction become
 * exact decimals. Thread-safe.
 */
public final class Arguments {
  /** The SPEC §3 message for arguments that are not a JSON object. */
  public static final String NOT_AN_OBJECT = "Tool arguments must be a JSON object";

  /** How Jackson reports a duplicate key in a tree: {@code Duplicate field 'a' for `ObjectNode`…}. */
  private static final String DUPLICATE = "Duplicate field ";
  private static final String DUPLICATE_END = " for `ObjectNode`";

  private final ObjectMapper mapper;
  private final int maxChars;
  private final int maxDepth;

  public Arguments(int maxChars, int maxDepth) {
    if (maxChars <= 0 || maxDepth <= 0) {
      throw new IllegalArgumentException("argument limits must be positive");
    }
    this.maxChars = maxChars;
    this.maxDepth = maxDepth;
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(maxDepth)
            .maxStringLength(maxChars)
            .maxNumberLength(1000)
            .build())
        .build();
    // Duplicate keys are refused by the tree as it is built (the replaced value shows them),
    // not by the parser's STRICT_DUPLICATE_DETECTION, which keeps a set of names per object:
    // same refusal, a third less allocation per call.
    this.mapper = JsonMapper.builder(factory)
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
        .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
        .build();
  }

  /** The shared mapper configured like the parser (exact decimals). */
  public ObjectMapper mapper() {
    return mapper;
  }

  public int maxChars() {
    return maxChars;
  }

  public int maxDepth() {
    return maxDepth;
  }

  /**
   * The result of parsing: the object, or the reason it was refused.
   *
   * @param object the arguments, or {@code null} when refused
   * @param error the refusal message, or {@code null}
   */
  public record Parsed(ObjectNode object, String error) {}

  /** Parses arguments; {@code null} or blank text means {@code {}}. Never throws. */
  public Parsed parse(String json) {
    if (json == null || json.isBlank()) {
      return new Parsed(mapper.createObjectNode(), null);
    }
    if (json.length() > maxChars) {
      return new Parsed(null, "Tool arguments are too large: " + json.length()
          + " characters, the limit is " + maxChars);
    }
    JsonNode node;
    try (JsonParser p = mapper.createParser(json)) {
      node = mapper.readTree(p);
    } catch (StreamConstraintsException e) {
      String m = String.valueOf(e.getOriginalMessage());
      if (m.contains("nesting depth")) {
        return new Parsed(null, "Tool arguments are nested too deeply: the limit is " + maxDepth
            + " levels");
      }
      return new Parsed(null, NOT_AN_OBJECT + ": " + m);
    } catch (MismatchedInputException e) {
      String m = String.valueOf(e.getOriginalMessage());
      if (m.startsWith(DUPLICATE)) {
        int end = m.indexOf(DUPLICATE_END);
        return new Parsed(null, NOT_AN_OBJECT + ": duplicate key " + m.substring(
            DUPLICATE.length(), end < 0 ? m.length() : end));
      }
      return new Parsed(null, NOT_AN_OBJECT + ": malformed JSON (" + firstLine(
          String.valueOf(e.getMessage())) + ")");
    } catch (JsonParseException e) {
      String m = String.valueOf(e.getOriginalMessage());
      if (m.startsWith("Duplicate field")) {
        return new Parsed(null, NOT_AN_OBJECT + ": duplicate key " + m.substring(
            "Duplicate field ".length()));
      }
      return new Parsed(null, NOT_AN_OBJECT + ": malformed JSON at column "
          + e.getLocation().getColumnNr() + " (" + firstLine(m) + ")");
    } catch (IOException | RuntimeException e) {
      return new Parsed(null, NOT_AN_OBJECT + ": malformed JSON (" + firstLine(
          String.valueOf(e.getMessage())) + ")");
    }
    if (node == null || !node.isObject()) {
      return new Parsed(null, NOT_AN_OBJECT);
    }
    return new Parsed((ObjectNode) node, null);
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 200 ? line.substring(0, 200) + "…" : line;
  }
}
