package dev.saferun.internal.controls;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JSON schemas of tools' arguments, registered by the host or adapters (from LangChain4j
 * {@code ToolSpecification}, Spring AI {@code ToolDefinition}, MCP {@code inputSchema}), compiled
 * once by {@link ToolSchema} in strict mode. Thread-safe.
 */
public final class SchemaRegistry {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, ToolSchema> strict = new ConcurrentHashMap<>();

  /**
   * Registers (or replaces) a tool's schema.
   *
   * @throws IllegalArgumentException when the schema is not a JSON object, or uses a keyword
   *     SafeRun cannot check (it is refused rather than checked more loosely)
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
    try {
      strict.put(tool, ToolSchema.compile(node, true));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("schema of tool '" + tool + "': " + e.getMessage(), e);
    }
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
    ToolSchema s = strict.get(tool);
    if (s == null) {
      throw new IllegalStateException("no schema registered for tool '" + tool + "'");
    }
    return s.firstViolation(arguments);
  }
}
