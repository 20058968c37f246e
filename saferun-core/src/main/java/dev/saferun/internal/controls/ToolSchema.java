package dev.saferun.internal.controls;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A compiled JSON Schema for tool arguments: the subset that tool schemas use (LangChain4j,
 * Spring AI, MCP {@code inputSchema}), validated without a third-party library so SafeRun never
 * fights the host over validator versions. Unsupported keywords are refused when the schema is
 * registered — a schema is never silently checked more loosely than it says. In strict mode an
 * object schema that does not say otherwise forbids properties it does not list.
 *
 * <p>Supported: {@code type} (one or a list), {@code properties}, {@code required},
 * {@code additionalProperties} (boolean or schema), {@code enum}, {@code const}, {@code items},
 * {@code minItems}, {@code maxItems}, {@code uniqueItems}, {@code minLength}, {@code maxLength},
 * {@code pattern} (RE2), {@code minimum}, {@code maximum}, {@code exclusiveMinimum},
 * {@code exclusiveMaximum}, {@code multipleOf}, {@code minProperties}, {@code maxProperties},
 * {@code anyOf}, {@code oneOf}, {@code allOf}, {@code not}, {@code $ref} to {@code #/$defs/…} or
 * {@code #/definitions/…}; annotations ({@code description}, {@code title}, {@code default},
 * {@code examples}, {@code format}, {@code $schema}, {@code $id}, {@code $comment},
 * {@code deprecated}, {@code readOnly}, {@code writeOnly}, {@code nullable}) are accepted and not
 * checked. Immutable and thread-safe once compiled.
 */
public final class ToolSchema {
  private static final Set<String> ANNOTATIONS = Set.of("description", "title", "default",
      "examples", "format", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly",
      "nullable", "$defs", "definitions");
  private static final Set<String> KEYWORDS = Set.of("type", "properties", "required",
      "additionalProperties", "enum", "const", "items", "minItems", "maxItems", "uniqueItems",
      "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
      "exclusiveMaximum", "multipleOf", "minProperties", "maxProperties", "anyOf", "oneOf",
      "allOf", "not", "$ref");

  private final Node root;

  private ToolSchema(Node root) {
    this.root = root;
  }

  /**
   * Compiles a schema.
   *
   * @throws IllegalArgumentException naming the first unsupported or malformed keyword and where
   */
  public static ToolSchema compile(JsonNode schema, boolean strict) {
    Map<String, JsonNode> defs = new HashMap<>();
    for (String k : new String[] {"$defs", "definitions"}) {
      JsonNode d = schema.get(k);
      if (d != null && d.isObject()) {
        d.fields().forEachRemaining(e -> defs.put("#/" + k + "/" + e.getKey(), e.getValue()));
      }
    }
    return new ToolSchema(new Compiler(defs, strict).compile(schema, "#", 0));
  }

  /** The first violation as {@code <json path>: <message>}, or {@code null} when valid. */
  public String firstViolation(JsonNode value) {
    return root.check(value, "$");
  }

  private interface Node {
    String check(JsonNode v, String path);
  }

  private static final class Compiler {
    private final Map<String, JsonNode> defs;
    private final boolean strict;
    private final Map<String, Node[]> refs = new HashMap<>();

    Compiler(Map<String, JsonNode> defs, boolean strict) {
      this.defs = defs;
      this.strict = strict;
    }

    Node compile(JsonNode s, String at, int depth) {
      if (depth > 64) {
        throw new IllegalArgumentException("schema nested deeper than 64 levels at " + at);
      }
      if (s.isBoolean()) {
        return s.booleanValue() ? (v, p) -> null : (v, p) -> p + ": no value is allowed here";
      }
      if (!s.isObject()) {
        throw new IllegalArgumentException("schema at " + at + " must be an object or boolean");
      }
      List<Node> checks = new ArrayList<>();
      Iterator<String> names = s.fieldNames();
      while (names.hasNext()) {
        String k = names.next();
        if (!KEYWORDS.contains(k) && !ANNOTATIONS.contains(k)) {
          throw new IllegalArgumentException("unsupported JSON Schema keyword '" + k + "' at "
              + at + " (SafeRun refuses schemas it cannot check fully)");
        }
      }
      if (s.has("$ref")) {
        String ref = s.get("$ref").asText();
        if (!defs.containsKey(ref)) {
          throw new IllegalArgumentException("unsupported $ref '" + ref + "' at " + at
              + " (only #/$defs/... and #/definitions/...)");
        }
        Node[] holder = refs.computeIfAbsent(ref, r -> new Node[1]);
        if (holder[0] == null) {
          holder[0] = (v, p) -> null; // recursion guard while compiling
          holder[0] = compile(defs.get(ref), ref, depth + 1);
        }
        checks.add((v, p) -> holder[0].check(v, p));
      }
      JsonNode type = s.get("type");
      if (type != null) {
        List<String> types = new ArrayList<>();
        if (type.isArray()) {
          type.forEach(t -> types.add(t.asText()));
        } else {
          types.add(type.asText());
        }
        for (String t : types) {
          if (!Set.of("object", "array", "string", "number", "integer", "boolean", "null")
              .contains(t)) {
            throw new IllegalArgumentException("unknown type '" + t + "' at " + at);
          }
        }
        checks.add((v, p) -> {
          for (String t : types) {
            if (is(v, t)) {
              return null;
            }
          }
          return p + ": expected " + String.join(" or ", types) + ", got " + kind(v);
        });
      }
      if (s.has("enum")) {
        JsonNode values = s.get("enum");
        checks.add((v, p) -> {
          for (JsonNode e : values) {
            if (same(v, e)) {
              return null;
            }
          }
          return p + ": must be one of " + values;
        });
      }
      if (s.has("const")) {
        JsonNode c = s.get("const");
        checks.add((v, p) -> same(v, c) ? null : p + ": must be " + c);
      }
      // objects
      Map<String, Node> props = new java.util.LinkedHashMap<>();
      if (s.has("properties")) {
        s.get("properties").fields().forEachRemaining(e ->
            props.put(e.getKey(), compile(e.getValue(), at + "/properties/" + e.getKey(),
                depth + 1)));
      }
      List<String> required = new ArrayList<>();
      if (s.has("required")) {
        s.get("required").forEach(r -> required.add(r.asText()));
      }
      Node additional;
      JsonNode ap = s.get("additionalProperties");
      boolean objectSchema = s.has("properties") || (type != null && type.toString()
          .contains("\"object\""));
      if (ap == null) {
        additional = strict && objectSchema ? null : (v, p) -> null;
      } else if (ap.isBoolean()) {
        additional = ap.booleanValue() ? (v, p) -> null : null;
      } else {
        additional = compile(ap, at + "/additionalProperties", depth + 1);
      }
      Node additionalFinal = additional;
      Integer minProps = intValue(s, "minProperties", at);
      Integer maxProps = intValue(s, "maxProperties", at);
      if (!props.isEmpty() || !required.isEmpty() || additionalFinal == null
          || ap != null || minProps != null || maxProps != null) {
        checks.add((v, p) -> {
          if (!v.isObject()) {
            return null;
          }
          for (String r : required) {
            if (!v.has(r)) {
              return p + ": missing required property '" + r + "'";
            }
          }
          Iterator<Map.Entry<String, JsonNode>> it = v.fields();
          while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String child = p + "." + e.getKey();
            Node n = props.get(e.getKey());
            if (n != null) {
              String bad = n.check(e.getValue(), child);
              if (bad != null) {
                return bad;
              }
            } else if (additionalFinal == null) {
              return child + ": unexpected property '" + e.getKey() + "'";
            } else {
              String bad = additionalFinal.check(e.getValue(), child);
              if (bad != null) {
                return bad;
              }
            }
          }
          if (minProps != null && v.size() < minProps) {
            return p + ": needs at least " + minProps + " properties";
          }
          if (maxProps != null && v.size() > maxProps) {
            return p + ": allows at most " + maxProps + " properties";
          }
          return null;
        });
      }
      // arrays
      if (s.has("items")) {
        if (s.get("items").isArray()) {
          throw new IllegalArgumentException("tuple 'items' (an array) is not supported at " + at);
        }
        Node items = compile(s.get("items"), at + "/items", depth + 1);
        checks.add((v, p) -> {
          if (!v.isArray()) {
            return null;
          }
          for (int i = 0; i < v.size(); i++) {
            String bad = items.check(v.get(i), p + "[" + i + "]");
            if (bad != null) {
              return bad;
            }
          }
          return null;
        });
      }
      Integer minItems = intValue(s, "minItems", at);
      Integer maxItems = intValue(s, "maxItems", at);
      boolean unique = s.path("uniqueItems").asBoolean(false);
      if (minItems != null || maxItems != null || unique) {
        checks.add((v, p) -> {
          if (!v.isArray()) {
            return null;
          }
          if (minItems != null && v.size() < minItems) {
            return p + ": needs at least " + minItems + " items";
          }
          if (maxItems != null && v.size() > maxItems) {
            return p + ": allows at most " + maxItems + " items";
          }
          if (unique) {
            for (int i = 0; i < v.size(); i++) {
              for (int j = i + 1; j < v.size(); j++) {
                if (same(v.get(i), v.get(j))) {
                  return p + ": items must be unique";
                }
              }
            }
          }
          return null;
        });
      }
      // strings
      Integer minLen = intValue(s, "minLength", at);
      Integer maxLen = intValue(s, "maxLength", at);
      Pattern pattern = null;
      if (s.has("pattern")) {
        try {
          pattern = Pattern.compile(s.get("pattern").asText());
        } catch (PatternSyntaxException e) {
          throw new IllegalArgumentException("pattern at " + at + " is not RE2: " + e.getMessage());
        }
      }
      Pattern patternFinal = pattern;
      if (minLen != null || maxLen != null || pattern != null) {
        checks.add((v, p) -> {
          if (!v.isTextual()) {
            return null;
          }
          String t = v.textValue();
          int len = t.codePointCount(0, t.length());
          if (minLen != null && len < minLen) {
            return p + ": shorter than " + minLen + " characters";
          }
          if (maxLen != null && len > maxLen) {
            return p + ": longer than " + maxLen + " characters";
          }
          if (patternFinal != null && !patternFinal.matcher(t).find()) {
            return p + ": does not match pattern " + patternFinal.pattern();
          }
          return null;
        });
      }
      // numbers
      BigDecimal min = decimal(s, "minimum", at);
      BigDecimal max = decimal(s, "maximum", at);
      BigDecimal xmin = decimal(s, "exclusiveMinimum", at);
      BigDecimal xmax = decimal(s, "exclusiveMaximum", at);
      BigDecimal multiple = decimal(s, "multipleOf", at);
      if (min != null || max != null || xmin != null || xmax != null || multiple != null) {
        checks.add((v, p) -> {
          if (!v.isNumber()) {
            return null;
          }
          BigDecimal d = v.decimalValue();
          if (min != null && d.compareTo(min) < 0) {
            return p + ": must be >= " + min.toPlainString();
          }
          if (max != null && d.compareTo(max) > 0) {
            return p + ": must be <= " + max.toPlainString();
          }
          if (xmin != null && d.compareTo(xmin) <= 0) {
            return p + ": must be > " + xmin.toPlainString();
          }
          if (xmax != null && d.compareTo(xmax) >= 0) {
            return p + ": must be < " + xmax.toPlainString();
          }
          if (multiple != null && d.remainder(multiple).signum() != 0) {
            return p + ": must be a multiple of " + multiple.toPlainString();
          }
          return null;
        });
      }
      // combinators
      for (String comb : new String[] {"allOf", "anyOf", "oneOf"}) {
        if (!s.has(comb)) {
          continue;
        }
        List<Node> subs = new ArrayList<>();
        int i = 0;
        for (JsonNode sub : s.get(comb)) {
          subs.add(compile(sub, at + "/" + comb + "/" + i++, depth + 1));
        }
        checks.add((v, p) -> {
          int ok = 0;
          String firstBad = null;
          for (Node n : subs) {
            String bad = n.check(v, p);
            if (bad == null) {
              ok++;
            } else if (firstBad == null) {
              firstBad = bad;
            }
          }
          switch (comb) {
            case "allOf":
              return firstBad;
            case "anyOf":
              return ok > 0 ? null : p + ": matches none of anyOf (" + firstBad + ")";
            default:
              return ok == 1 ? null : p + ": must match exactly one of oneOf, matches " + ok;
          }
        });
      }
      if (s.has("not")) {
        Node not = compile(s.get("not"), at + "/not", depth + 1);
        checks.add((v, p) -> not.check(v, p) == null ? p + ": must not match the 'not' schema"
            : null);
      }
      Node[] all = checks.toArray(new Node[0]);
      return (v, p) -> {
        for (Node n : all) {
          String bad = n.check(v, p);
          if (bad != null) {
            return bad;
          }
        }
        return null;
      };
    }
  }

  private static Integer intValue(JsonNode s, String k, String at) {
    JsonNode n = s.get(k);
    if (n == null) {
      return null;
    }
    if (!n.canConvertToInt() || n.intValue() < 0) {
      throw new IllegalArgumentException(k + " at " + at + " must be a non-negative integer");
    }
    return n.intValue();
  }

  private static BigDecimal decimal(JsonNode s, String k, String at) {
    JsonNode n = s.get(k);
    if (n == null) {
      return null;
    }
    if (!n.isNumber()) {
      throw new IllegalArgumentException(k + " at " + at + " must be a number");
    }
    return n.decimalValue();
  }

  private static boolean is(JsonNode v, String type) {
    switch (type) {
      case "object":
        return v.isObject();
      case "array":
        return v.isArray();
      case "string":
        return v.isTextual();
      case "boolean":
        return v.isBoolean();
      case "null":
        return v.isNull();
      case "number":
        return v.isNumber();
      default: // integer
        return v.isIntegralNumber() || (v.isNumber()
            && v.decimalValue().stripTrailingZeros().scale() <= 0);
    }
  }

  private static boolean same(JsonNode a, JsonNode b) {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0;
    }
    return a.equals(b);
  }

  private static String kind(JsonNode v) {
    if (v.isIntegralNumber()) {
      return "integer";
    }
    if (v.isNumber()) {
      return "number";
    }
    if (v.isTextual()) {
      return "string";
    }
    return v.getNodeType().name().toLowerCase();
  }
}
