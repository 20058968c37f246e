package dev.saferun.internal.controls;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.SpecVersionDetector;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JSON schemas of tools' arguments, registered by the host or adapters (from LangChain4j
 * {@code ToolSpecification}, Spring AI {@code ToolDefinition}, MCP {@code inputSchema}). Compiled
 * once; in strict mode every object schema that lists properties forbids others. Thread-safe.
 */
public final class SchemaRegistry {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, JsonSchema> strict = new ConcurrentHashMap<>();

  /**
   * Registers (or replaces) a tool's schema.
   *
   * @throws IllegalArgumentException when the schema is not valid JSON or not a JSON object
   */
  public void register(String tool, String schemaJson) {
    JsonNode node;
    try {
      node = JSON.readTree(schemaJson);
    } catch (IOException e) {
      throw new IllegalArgumentException("schema of tool '" + tool + "' is not valid JSON: "
          + e.getMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("schema of tool '" + tool + "' must be a JSON object");
    }
    ObjectNode copy = ((ObjectNode) node).deepCopy();
    closeObjects(copy);
    SpecVersion.VersionFlag version = copy.has("$schema")
        ? SpecVersionDetector.detect(copy) : SpecVersion.VersionFlag.V202012;
    strict.put(tool, JsonSchemaFactory.getInstance(version).getSchema(copy));
  }

  /** Whether a tool has a schema. */
  public boolean has(String tool) {
    return strict.containsKey(tool);
  }

  /**
   * Validates arguments; returns {@code null} when they conform, else the first violation as
   * {@code <json path>: <message>}.
   *
   * @throws IllegalStateException when the tool has no schema
   */
  public String firstViolation(String tool, JsonNode arguments) {
    JsonSchema s = strict.get(tool);
    if (s == null) {
      throw new IllegalStateException("no schema registered for tool '" + tool + "'");
    }
    Set<ValidationMessage> errors = s.validate(arguments);
    if (errors.isEmpty()) {
      return null;
    }
    ValidationMessage first = null;
    for (ValidationMessage m : errors) {
      if (first == null || m.getInstanceLocation().toString()
          .compareTo(first.getInstanceLocation().toString()) < 0) {
        first = m;
      }
    }
    return first.getInstanceLocation() + ": " + first.getMessage();
  }

  /** Strict mode: object schemas with properties and no additionalProperties forbid others. */
  private static void closeObjects(JsonNode node) {
    if (node.isObject()) {
      ObjectNode o = (ObjectNode) node;
      if ((o.has("properties") || "object".equals(o.path("type").asText(null)))
          && !o.has("additionalProperties") && !o.has("unevaluatedProperties")
          && !o.has("patternProperties")) {
        o.put("additionalProperties", false);
      }
      Iterator<JsonNode> it = o.elements();
      while (it.hasNext()) {
        closeObjects(it.next());
      }
    } else if (node.isArray()) {
      for (JsonNode n : node) {
        closeObjects(n);
      }
    }
  }
}
