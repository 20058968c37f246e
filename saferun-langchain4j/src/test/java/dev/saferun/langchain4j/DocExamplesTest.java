package dev.saferun.langchain4j;

import static dev.saferun.langchain4j.ScriptedChatModel.answer;
import static dev.saferun.langchain4j.ScriptedChatModel.call;
import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
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
import dev.saferun.CallContext;
import dev.saferun.SafeRun;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.policy.PolicySet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Java examples of docs/langchain4j.md, compiled and run. Each {@code DOC-BEGIN} region below
 * is one code block of the page, in order (indentation aside); blocks the page marks as not
 * compiled are skipped. The first test fails when the page and this file drift apart.
 */
class DocExamplesTest {
  private static final Path DOC = Path.of("../docs/langchain4j.md");
  private static final Path THIS_SOURCE =
      Path.of("src/test/java/dev/saferun/langchain4j/DocExamplesTest.java");
  private static final String NOT_COMPILED = "<!-- not compiled";

  // DOC-BEGIN interface
  interface SupportAgent {
    String chat(@MemoryId String ticketId, @UserMessage String message, InvocationParameters caller);
  }
  // DOC-END

  /** The page's own tools: lookups and refunds; deletions live on the MCP server. */
  static class CrmTools {
    final List<String> calls = new CopyOnWriteArrayList<>();

    @Tool(name = "lookup_customer", value = "Finds a customer")
    public String lookup(@P("customer id") String customerId) {
      calls.add("lookup_customer " + customerId);
      return "{\"id\":\"" + customerId + "\"}";
    }

    @Tool(name = "create_refund", value = "Refunds dollars")
    public String refund(@P("customer id") String customerId, @P("dollars") int amount) {
      calls.add("create_refund " + customerId + " " + amount);
      return "Refunded $" + amount;
    }
  }

  /** Stands for the host's way of paging a supervisor. */
  static final class Supervisors {
    final BlockingQueue<ApprovalRequest> paged = new LinkedBlockingQueue<>();

    void notify(ApprovalRequest request) {
      paged.add(request);
    }
  }

  /** Stands for the host's metrics. */
  static final class Metrics {
    final List<String> counted = new CopyOnWriteArrayList<>();

    void count(String tool) {
      counted.add(tool);
    }
  }

  private final Supervisors supervisors = new Supervisors();
  private final Metrics metrics = new Metrics();
  private final Path policyFile = Path.of("src/test/resources/policies/support.yaml");
  private InProcessMcpServer server;
  private McpClient crmClient;

  @BeforeEach
  void startMcp() throws IOException {
    server = new InProcessMcpServer();
    crmClient = DefaultMcpClient.builder().key("crm")
        .transport(StreamableHttpMcpTransport.builder().url(server.url()).setHttpVersion1_1()
            .subsidiaryChannel(false).build())
        .autoHealthCheck(false).build();
  }

  @AfterEach
  void stopMcp() throws Exception {
    crmClient.close();
    server.close();
  }

  @Test
  void theJavaBlocksOfThePageAreTheRegionsOfThisFile() throws IOException {
    assertThat(compiledBlocks(Files.readString(DOC)))
        .isEqualTo(regions(Files.readString(THIS_SOURCE)));
  }

  @Test
  void theRelativeLinksOfThePageResolve() throws IOException {
    Matcher m = Pattern.compile("\\]\\(([^)\\s#]+)[^)\\s]*\\)").matcher(Files.readString(DOC));
    while (m.find()) {
      if (!m.group(1).startsWith("http")) {
        assertThat(DOC.getParent().resolve(m.group(1))).as(m.group(1)).exists();
      }
    }
  }

  @Test
  void setup() {
    McpToolProvider mcpTools = McpToolProvider.builder().mcpClients(crmClient)
        .filterToolNames("delete_customer").build();
    ScriptedChatModel chatModel = ScriptedChatModel.replying(
        call("c1", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":20}"),
        call("c2", "delete_customer", "{\"customerId\":\"cus_1\"}"),
        answer("Refunded $20."));

    // DOC-BEGIN setup
    SafeRun safeRun = SafeRun.builder()
        .policies(PolicySet.load(policyFile))
        .onPause(request -> supervisors.notify(request))
        .build();
    SafeRunLangChain4j saferun = SafeRunLangChain4j.builder(safeRun)
        .agent("support")
        .context(CallContext.of("environment", "prod"))
        .build();

    SupportAgent agent = saferun.install(AiServices.builder(SupportAgent.class), new CrmTools(), mcpTools)
        .chatModel(chatModel)
        .chatMemoryProvider(ticket -> MessageWindowChatMemory.withMaxMessages(50))
        .build();

    String reply = agent.chat("ticket-4711", "Please refund my order",
        InvocationParameters.from(Map.of("user", "dana", "tenant", "acme")));
    // DOC-END

    assertThat(reply).isEqualTo("Refunded $20.");
    assertThat(chatModel.advertisedTools(0))
        .containsExactlyInAnyOrder("lookup_customer", "create_refund");
    assertThat(chatModel.toolResults()).extracting(ToolExecutionResultMessage::text)
        .containsExactly("Refunded $20",
            "[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy");
    assertThat(server.calls()).isEmpty();
    assertThat(saferun.context(null).asMap())
        .containsExactlyInAnyOrderEntriesOf(Map.of("environment", "prod", "agent", "support"));
  }

  @Test
  void yourOwnHooks() {
    SafeRun safeRun = SafeRun.builder().policies(PolicySet.load(policyFile)).build();
    ScriptedChatModel chatModel = ScriptedChatModel.replying(call("c1", "wire_money", "{}"),
        answer("Sorry."));

    // DOC-BEGIN hooks
    SafeRunLangChain4j withYourHooks = SafeRunLangChain4j.builder(safeRun)
        .hallucinatedToolNameStrategy(request -> ToolExecutionResultMessage.from(request,
            "There is no tool named " + request.name()))
        .beforeToolExecution(before -> metrics.count(before.request().name()))
        .build();
    // DOC-END
    withYourHooks.install(AiServices.builder(SupportAgent.class), new CrmTools())
        .chatModel(chatModel)
        .chatMemoryProvider(ticket -> MessageWindowChatMemory.withMaxMessages(50))
        .build()
        .chat("t-1", "wire $5000", InvocationParameters.from("user", "dana"));

    assertThat(chatModel.toolResults().get(0).text()).isEqualTo("There is no tool named wire_money");
    assertThat(metrics.counted).containsExactly("wire_money");
  }

  @Test
  void mcpToolWrapper() {
    SafeRunLangChain4j saferun = SafeRunLangChain4j.create(
        SafeRun.builder().policies(PolicySet.load(policyFile)).build());
    ScriptedChatModel chatModel = ScriptedChatModel.replying(
        call("c1", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":900}"), answer("No."));

    // DOC-BEGIN toolWrapper
    McpToolProvider guardedMcp = McpToolProvider.builder()
        .mcpClients(crmClient)
        .toolWrapper(saferun::wrap)
        .build();
    // DOC-END
    AiServices.builder(SupportAgent.class).chatModel(chatModel).toolProvider(guardedMcp)
        .chatMemoryProvider(ticket -> MessageWindowChatMemory.withMaxMessages(50))
        .build().chat("t-1", "refund $900", InvocationParameters.from("user", "dana"));

    assertThat(chatModel.toolResults().get(0).text())
        .isEqualTo("[SAFERUN POLICY DENIED] A single refund cannot exceed $50");
    assertThat(server.calls()).isEmpty();
  }

  @Test
  void approveWithEditedArguments() throws Exception {
    SafeRun safeRun = SafeRun.builder()
        .policies(Fixtures.policy("approvals-wait.yaml"))
        .onPause(supervisors::notify)
        .build();
    CrmTools crm = new CrmTools();
    ScriptedChatModel chatModel = ScriptedChatModel.replying(
        call("c1", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":500}"), answer("Ok."));
    SupportAgent agent = SafeRunLangChain4j.create(safeRun)
        .install(AiServices.builder(SupportAgent.class), crm)
        .chatModel(chatModel)
        .chatMemoryProvider(ticket -> MessageWindowChatMemory.withMaxMessages(50))
        .build();
    CompletableFuture<String> reply = CompletableFuture.supplyAsync(() ->
        agent.chat("t-1", "refund $500", InvocationParameters.from("user", "dana")));
    ApprovalRequest request = supervisors.paged.poll(30, TimeUnit.SECONDS);
    assertThat(request).isNotNull();

    // DOC-BEGIN approve
    safeRun.approvals().approve(request.id(), "supervisor@acme.com",
        "{\"customerId\":\"cus_1\",\"amount\":150}");
    // DOC-END

    assertThat(reply.get(30, TimeUnit.SECONDS)).isEqualTo("Ok.");
    assertThat(crm.calls).containsExactly("create_refund cus_1 150");
    assertThat(chatModel.toolResults().get(0).text()).startsWith(
        "[SAFERUN APPROVED WITH CHANGES] supervisor@acme.com changed the arguments to");
  }

  @Test
  void theTableOfContextKeysIsWhatTheAdapterDoes() {
    SafeRun safeRun = SafeRun.builder().policies(PolicySet.load(policyFile)).build();
    SafeRunLangChain4j saferun = SafeRunLangChain4j.builder(safeRun)
        .parameter("customerId", "user").build();
    dev.langchain4j.invocation.InvocationContext ic =
        dev.langchain4j.invocation.InvocationContext.builder()
            .interfaceName(SupportAgent.class.getName())
            .chatMemoryId("default")
            .invocationParameters(InvocationParameters.from(Map.of("customerId", "cus_1",
                "tenant", "acme", "saferun.channel", "email")))
            .build();

    assertThat(saferun.context(ic).asMap()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "agent", "SupportAgent", "run", "default", "user", "cus_1", "tenant", "acme",
        "channel", "email"));
  }

  /** The ```java blocks of a markdown page, minus those marked as not compiled. */
  static List<String> compiledBlocks(String markdown) {
    List<String> out = new ArrayList<>();
    String[] lines = markdown.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (!lines[i].equals("```java")) {
        continue;
      }
      boolean skip = i > 0 && lines[i - 1].startsWith(NOT_COMPILED);
      StringBuilder block = new StringBuilder();
      for (i++; i < lines.length && !lines[i].equals("```"); i++) {
        block.append(lines[i]).append('\n');
      }
      if (!skip) {
        out.add(block.toString());
      }
    }
    return out;
  }

  /** The DOC-BEGIN … DOC-END regions of a source file, with their indentation removed. */
  static List<String> regions(String source) {
    List<String> out = new ArrayList<>();
    List<String> region = null;
    for (String line : source.split("\n", -1)) {
      if (line.strip().startsWith("// DOC-BEGIN")) {
        region = new ArrayList<>();
      } else if (line.strip().equals("// DOC-END") && region != null) {
        int indent = region.stream().filter(l -> !l.isBlank())
            .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        StringBuilder text = new StringBuilder();
        for (String l : region) {
          text.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
        }
        out.add(text.toString());
        region = null;
      } else if (region != null) {
        region.add(line);
      }
    }
    return out;
  }
}
