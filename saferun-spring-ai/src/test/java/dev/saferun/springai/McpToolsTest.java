package dev.saferun.springai;

import static dev.saferun.springai.ScriptedChatModel.call;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.observation.ObservationRegistry;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.client.advisor.ToolCallingAdvisor;
import org.springframework.ai.mcp.SyncMcpToolCallbackProvider;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;

/**
 * MCP tools behind SafeRun: a real MCP server (SDK 2.0) and a real {@code McpSyncClient} connected
 * in-process, exposed to Spring AI by its {@link SyncMcpToolCallbackProvider}.
 */
class McpToolsTest {
  private final Fixtures f = new Fixtures();
  private final SafeRunSpringAi saferun = SafeRunSpringAi.of(f.safeRun);
  private final List<String> ran = new CopyOnWriteArrayList<>();
  private final List<Map<String, Object>> metas = new CopyOnWriteArrayList<>();
  private McpSyncServer server;
  private McpSyncClient client;
  private SyncMcpToolCallbackProvider provider;

  @BeforeEach
  void connect() throws IOException {
    McpJsonMapper json = McpJsonDefaults.getMapper();
    Pipe toServer = Pipe.open();
    Pipe toClient = Pipe.open();
    Map<String, Object> schema = Map.of("type", "object",
        "properties", Map.of("id", Map.of("type", "string")));
    server = McpServer.sync(new StdioServerTransportProvider(json,
            Channels.newInputStream(toServer.source()), Channels.newOutputStream(toClient.sink())))
        .serverInfo("crm", "1.0")
        .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
        .toolCall(McpSchema.Tool.builder("get_customer", schema).description("Look up").build(),
            (exchange, request) -> {
              ran.add("get_customer " + request.arguments().get("id"));
              metas.add(request.meta() == null ? Map.of() : new HashMap<>(request.meta()));
              return McpSchema.CallToolResult.builder().addTextContent("customer cus_1").build();
            })
        .toolCall(McpSchema.Tool.builder("delete_customer", schema).description("Delete").build(),
            (exchange, request) -> {
              ran.add("delete_customer " + request.arguments().get("id"));
              return McpSchema.CallToolResult.builder().addTextContent("deleted").build();
            })
        .build();
    client = McpClient.sync(new PipeClientTransport(json,
            Channels.newInputStream(toClient.source()), Channels.newOutputStream(toServer.sink())))
        .requestTimeout(Duration.ofSeconds(30)).build();
    client.initialize();
    provider = SyncMcpToolCallbackProvider.builder().mcpClients(client).build();
  }

  @AfterEach
  void close() {
    client.closeGracefully();
    server.closeGracefully();
  }

  @Test
  void aWrappedProviderWrapsEveryMcpTool() {
    ToolCallbackProvider wrapped = saferun.wrap(provider);

    assertThat(wrapped.getToolCallbacks()).hasSize(2)
        .allSatisfy(t -> assertThat(t).isInstanceOf(SafeRunToolCallback.class));
    ToolCallback delete = List.of(wrapped.getToolCallbacks()).stream()
        .filter(t -> t.getToolDefinition().name().equals("delete_customer")).findFirst()
        .orElseThrow();
    assertThat(delete.call("{\"id\":\"cus_1\"}"))
        .isEqualTo("[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy");
    assertThat(ran).isEmpty();
  }

  @Test
  void mcpToolsAreFilteredAndGuardedAndSafeRunsContextNeverReachesTheServer() {
    ScriptedChatModel model = new ScriptedChatModel()
        .thenToolCalls(call("c1", "get_customer", "{\"id\":\"cus_1\"}"),
            call("c2", "delete_customer", "{\"id\":\"cus_1\"}"))
        .thenText("done");
    ChatClient chat = ChatClient.builder(model, ObservationRegistry.NOOP, null, null,
            ToolCallingAdvisor.builder().toolCallingManager(saferun.toolCallingManager()))
        .defaultAdvisors(saferun.advisor()).build();
    Map<String, Object> toolContext = new HashMap<>(SafeRunToolContext.of("user", "u1"));
    toolContext.put("traceId", "t-1");

    chat.prompt("look up and delete cus_1").tools(provider).toolContext(toolContext)
        .advisors(a -> a.param(SafeRunToolContext.CONVERSATION_ID, "conv-1"))
        .call().content();

    assertThat(model.toolsOffered(0)).containsExactly("get_customer");
    assertThat(ran).containsExactly("get_customer cus_1");
    assertThat(model.toolResults(1).get("c1")).contains("customer cus_1");
    assertThat(model.toolResults(1).get("c2")).isEqualTo(
        "[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy");
    assertThat(metas).singleElement().satisfies(meta -> {
      assertThat(meta).containsEntry("traceId", "t-1");
      assertThat(meta.keySet()).noneMatch(k -> k.startsWith("saferun."));
    });
    assertThat(f.decisions()).first().satisfies(e -> {
      assertThat(e.context().get("user")).isEqualTo("u1");
      assertThat(e.context().get("run")).isEqualTo("conv-1");
    });
  }
}
