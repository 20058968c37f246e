package dev.saferun.langchain4j;

import static dev.saferun.langchain4j.ScriptedChatModel.answer;
import static dev.saferun.langchain4j.ScriptedChatModel.call;
import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.invocation.InvocationParameters;
import dev.langchain4j.mcp.McpToolProvider;
import dev.langchain4j.mcp.client.DefaultMcpClient;
import dev.langchain4j.mcp.client.McpClient;
import dev.langchain4j.mcp.client.transport.http.StreamableHttpMcpTransport;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.MemoryId;
import dev.langchain4j.service.UserMessage;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * MCP tools behind SafeRun: LangChain4j's own MCP client and {@link McpToolProvider}, talking
 * Streamable HTTP to an MCP server in this JVM.
 */
class McpTest {
  interface SupportAgent {
    String chat(@MemoryId String ticket, @UserMessage String message, InvocationParameters params);
  }

  private final Fixtures f = new Fixtures("support.yaml");
  private InProcessMcpServer server;
  private McpClient client;

  @BeforeEach
  void start() throws Exception {
    server = new InProcessMcpServer();
    client = DefaultMcpClient.builder()
        .key("crm")
        .transport(StreamableHttpMcpTransport.builder().url(server.url()).setHttpVersion1_1()
            .subsidiaryChannel(false).timeout(Duration.ofSeconds(30)).build())
        .autoHealthCheck(false)
        .build();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    server.close();
  }

  private SupportAgent agent(Object tools, ScriptedChatModel model) {
    return SafeRunLangChain4j.create(f.safeRun)
        .install(AiServices.builder(SupportAgent.class), tools)
        .chatModel(model)
        .chatMemoryProvider(id -> MessageWindowChatMemory.withMaxMessages(100))
        .build();
  }

  private static String chat(SupportAgent agent) {
    return agent.chat("t-1", "help", InvocationParameters.from("user", "alice"));
  }

  @Test
  void mcpToolsAreFilteredAndEveryCallIsDecidedBeforeItReachesTheServer() {
    McpToolProvider mcp = McpToolProvider.builder().mcpClients(client).build();
    ScriptedChatModel model = ScriptedChatModel.replying(
        call("call_1", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":500}"),
        call("call_2", "delete_customer", "{\"customerId\":\"cus_1\"}"),
        call("call_3", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":25}"),
        answer("Refunded $25."));

    assertThat(chat(agent(mcp, model))).isEqualTo("Refunded $25.");

    assertThat(model.advertisedTools(0))
        .containsExactlyInAnyOrder("lookup_customer", "create_refund");
    assertThat(model.toolResults()).extracting(ToolExecutionResultMessage::text).containsExactly(
        "[SAFERUN POLICY DENIED] A single refund cannot exceed $50",
        "[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy",
        "Refunded $25 to cus_1");
    assertThat(server.calls()).containsExactly(
        "create_refund {\"customerId\":\"cus_1\",\"amount\":25}");
  }

  @Test
  void mcpAndAnnotatedToolsShareOneProviderAndOnePolicy() {
    McpToolProvider mcp = McpToolProvider.builder().mcpClients(client)
        .filterToolNames("create_refund").build();
    Crm local = new Crm() {
      // the local CRM offers lookups only; refunds go through MCP
    };
    ScriptedChatModel model = ScriptedChatModel.replying(
        call("call_1", "lookup_customer", "{\"customerId\":\"cus_1\"}"),
        call("call_2", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":10}"),
        answer("Done."));

    chat(agent(java.util.List.of(new LookupOnly(local), mcp), model));

    assertThat(model.advertisedTools(0))
        .containsExactlyInAnyOrder("lookup_customer", "create_refund");
    assertThat(local.calls()).containsExactly("lookup_customer cus_1");
    assertThat(server.calls()).containsExactly(
        "create_refund {\"customerId\":\"cus_1\",\"amount\":10}");
  }

  @Test
  void aFailingMcpToolCostsNothing() {
    McpToolProvider mcp = McpToolProvider.builder().mcpClients(client).build();
    ScriptedChatModel model = new ScriptedChatModel(r -> {
      long n = r.messages().stream().filter(ToolExecutionResultMessage.class::isInstance).count();
      // Three failures first, then three refunds: the cap of 3 counts only the successes.
      return n < 6 ? call("call_" + n, "create_refund", "{\"customerId\":\""
          + (n < 3 ? "cus_err" : "cus_" + n) + "\",\"amount\":10}") : answer("Done.");
    });

    chat(agent(mcp, model));

    assertThat(server.calls()).hasSize(6);
    assertThat(model.toolResults()).extracting(ToolExecutionResultMessage::text)
        .containsExactly("Payment gateway refused the refund", "Payment gateway refused the refund",
            "Payment gateway refused the refund", "Refunded $10 to cus_3", "Refunded $10 to cus_4",
            "Refunded $10 to cus_5");
  }

  @Test
  void theToolWrapperHookEnforcesWithoutHiding() {
    SafeRunLangChain4j saferun = SafeRunLangChain4j.create(f.safeRun);
    McpToolProvider mcp = McpToolProvider.builder().mcpClients(client)
        .toolWrapper(saferun::wrap).build();
    ScriptedChatModel model = ScriptedChatModel.replying(
        call("call_1", "delete_customer", "{\"customerId\":\"cus_1\"}"), answer("No."));
    SupportAgent agent = AiServices.builder(SupportAgent.class)
        .chatModel(model)
        .chatMemoryProvider(id -> MessageWindowChatMemory.withMaxMessages(100))
        .toolProvider(mcp)
        .build();

    chat(agent);

    assertThat(model.advertisedTools(0)).contains("delete_customer");
    assertThat(model.toolResults().get(0).text())
        .isEqualTo("[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy");
    assertThat(server.calls()).isEmpty();
  }

  /** Exposes only the lookup of a {@link Crm}. */
  static final class LookupOnly {
    private final Crm crm;

    LookupOnly(Crm crm) {
      this.crm = crm;
    }

    @dev.langchain4j.agent.tool.Tool(name = "lookup_customer", value = "Finds a customer")
    public String lookup(String customerId) {
      return crm.lookupCustomer(customerId);
    }
  }
}
