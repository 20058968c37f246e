package dev.saferun.springai;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.springframework.ai.chat.model.ToolContext;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.definition.DefaultToolDefinition;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.springframework.ai.tool.metadata.ToolMetadata;

/** A tool that records its inputs and tool contexts. Thread-safe. */
final class RecordingTool implements ToolCallback {
  final List<String> inputs = new CopyOnWriteArrayList<>();
  final List<ToolContext> contexts = new CopyOnWriteArrayList<>();
  private final ToolDefinition definition;
  private final ToolMetadata metadata;
  private final Function<String, String> body;

  RecordingTool(String name) {
    this(name, false, in -> name + " done with " + in);
  }

  RecordingTool(String name, boolean returnDirect, Function<String, String> body) {
    this.definition = DefaultToolDefinition.builder().name(name).description("the " + name + " tool")
        .inputSchema("{\"type\":\"object\"}").build();
    this.metadata = ToolMetadata.builder().returnDirect(returnDirect).build();
    this.body = body;
  }

  @Override
  public ToolDefinition getToolDefinition() {
    return definition;
  }

  @Override
  public ToolMetadata getToolMetadata() {
    return metadata;
  }

  @Override
  public String call(String toolInput) {
    return call(toolInput, null);
  }

  @Override
  public String call(String toolInput, ToolContext toolContext) {
    inputs.add(toolInput);
    contexts.add(toolContext);
    return body.apply(toolInput);
  }
}
