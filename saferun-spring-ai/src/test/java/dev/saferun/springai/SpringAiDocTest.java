package dev.saferun.springai;

import static dev.saferun.springai.ScriptedChatModel.call;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.saferun.CallContext;
import dev.saferun.SafeRun;
import dev.saferun.audit.AuditEvent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.client.ChatClientRequest;
import org.springframework.ai.chat.client.advisor.ToolCallingAdvisor;
import org.springframework.ai.chat.memory.ChatMemory;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionResult;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/**
 * docs/spring-ai.md, compiled and run: its ```java blocks are the {@code DOC} regions of this
 * file, verbatim (first test), and each region runs in a test below. Its links resolve and its
 * properties table lists every {@code saferun.*} property.
 */
class SpringAiDocTest {
  private static final Path DOC = Path.of("..", "docs", "spring-ai.md");
  private static final Path THIS = Path.of("src", "test", "java", "dev", "saferun", "springai",
      "SpringAiDocTest.java");

  private final Fixtures f = new Fixtures();
  private final SafeRun safeRun = f.safeRun;
  private final ScriptedChatModel chatModel = new ScriptedChatModel();
  private final SupportTools supportTools = new SupportTools();
  private final RecordingTool weatherTool = new RecordingTool("get_customer");
  private final String question = "Refund cus_1 $150";

  @Test
  void docJavaBlocksAreTheCodeTheseTestsRun() throws IOException {
    List<String> blocks = new ArrayList<>();
    Matcher m = Pattern.compile("(?s)```java\\n(.*?)```").matcher(Files.readString(DOC));
    while (m.find()) {
      blocks.add(m.group(1));
    }
    List<String> regions = new ArrayList<>();
    Matcher r = Pattern.compile("(?s)// DOC-BEGIN\\n(.*?)\\s*// DOC-END")
        .matcher(Files.readString(THIS));
    while (r.find()) {
      regions.add(dedent(r.group(1)));
    }
    assertThat(blocks).isEqualTo(regions);
  }

  private static String dedent(String text) {
    List<String> lines = text.lines().toList();
    int indent = Integer.MAX_VALUE;
    for (String l : lines) {
      if (!l.isBlank()) {
        indent = Math.min(indent, l.length() - l.stripLeading().length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String l : lines) {
      sb.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
    }
    return sb.toString();
  }

  private SafeRunSpringAi saferun() {
    return SafeRunSpringAi.builder(safeRun).build();
  }

  private ChatClient chat(SafeRunSpringAi saferun) {
    return ChatClient.builder(chatModel, ObservationRegistry.NOOP, null, null,
            ToolCallingAdvisor.builder().toolCallingManager(saferun.toolCallingManager()))
        .defaultAdvisors(saferun.advisor()).defaultTools(supportTools).build();
  }

  @Test
  void identityPerRequest() {
    ChatClient chat = chat(saferun());
    chatModel.thenToolCalls(call("c1", "get_customer", "{\"id\":\"cus_1\"}")).thenText("ok");

    // DOC-BEGIN
    String answer = chat.prompt(question)
        .toolContext(SafeRunToolContext.of("user", "u-17", "tenant", "acme"))
        .advisors(a -> a.param(ChatMemory.CONVERSATION_ID, "ticket-4711"))
        .call()
        .content();
    // DOC-END

    assertThat(answer).isEqualTo("ok");
    assertThat(f.decisions()).singleElement().extracting(AuditEvent::context)
        .isEqualTo(CallContext.of("user", "u-17", "tenant", "acme", "run", "ticket-4711"));
  }

  // DOC-BEGIN
  @Bean
  SafeRunContextResolver currentUser() {
    return request -> {
      Authentication a = SecurityContextHolder.getContext().getAuthentication();
      return a == null ? CallContext.empty() : CallContext.of("user", a.getName());
    };
  }
  // DOC-END

  @Test
  void contextResolverReadsTheSecurityContextOnTheRequestThread() {
    SecurityContextHolder.getContext().setAuthentication(
        new UsernamePasswordAuthenticationToken("alice", "n/a"));
    try {
      ChatClientRequest request = new ChatClientRequest(new Prompt("hi"), Map.of());
      assertThat(currentUser().resolve(request)).isEqualTo(CallContext.of("user", "alice"));
    } finally {
      SecurityContextHolder.clearContext();
    }
    assertThat(currentUser().resolve(new ChatClientRequest(new Prompt("hi"), Map.of())))
        .isEqualTo(CallContext.empty());
  }

  private final Map<String, ApprovalPendingException> waiting = new HashMap<>();
  private final Map<String, Object> identity = SafeRunToolContext.of("user", "u-17");

  private String ask(ChatClient chat) {
    // DOC-BEGIN
    try {
      return chat.prompt(question).tools(supportTools).toolContext(identity).call().content();
    } catch (ApprovalPendingException pending) {
      waiting.put(pending.request().id(), pending);
      return "A supervisor must approve this first (" + pending.request().id() + ").";
    }
    // DOC-END
  }

  private String resume(ChatClient chat, SafeRunSpringAi saferun,
      ToolCallingManager toolCallingManager, String approvalId) {
    // DOC-BEGIN
    ApprovalPendingException pending = waiting.remove(approvalId);
    ToolExecutionResult resumed = saferun.toolCallingManager(toolCallingManager)
        .resume(pending, supportTools);
    String answer = chat.prompt()
        .messages(resumed.conversationHistory())
        .tools(supportTools)
        .toolContext(pending.toolContext())
        .call()
        .content();
    // DOC-END
    return answer;
  }

  @Test
  void holdAsExceptionThenResume() {
    SafeRunSpringAi saferun = SafeRunSpringAi.builder(safeRun).onHold(OnHold.EXCEPTION).build();
    ToolCallingManager toolCallingManager = saferun.toolCallingManager();
    ChatClient chat = ChatClient.builder(chatModel, ObservationRegistry.NOOP, null, null,
            ToolCallingAdvisor.builder().toolCallingManager(toolCallingManager))
        .defaultAdvisors(saferun.advisor()).build();
    chatModel.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":150}"));

    String first = ask(chat);
    String id = waiting.keySet().iterator().next();
    assertThat(first).isEqualTo("A supervisor must approve this first (" + id + ").");

    safeRun.approvals().approve(id, "sam");
    chatModel.thenText("Refunded.");
    assertThat(resume(chat, saferun, toolCallingManager, id)).isEqualTo("Refunded.");
    assertThat(supportTools.ran).containsExactly("create_refund cus_1 150");
  }

  @Test
  void manualWiring() {
    // DOC-BEGIN
    SafeRunSpringAi saferun = SafeRunSpringAi.builder(safeRun)
        .defaultContext(CallContext.of("agent", "support"))
        .build();
    ChatClient chat = ChatClient.builder(chatModel, ObservationRegistry.NOOP, null, null,
            ToolCallingAdvisor.builder().toolCallingManager(saferun.toolCallingManager()))
        .defaultAdvisors(saferun.advisor())
        .defaultTools(supportTools)
        .build();
    // DOC-END
    chatModel.thenToolCalls(call("c1", "delete_customer", "{\"id\":\"cus_1\"}")).thenText("no");

    assertThat(chat.prompt("delete cus_1").call().content()).isEqualTo("no");
    assertThat(chatModel.toolsOffered(0)).doesNotContain("delete_customer");
    assertThat(f.decisions()).singleElement().satisfies(e -> {
      assertThat(e.type()).isEqualTo(AuditEvent.Type.DENIED);
      assertThat(e.context().get("agent")).isEqualTo("support");
    });
  }

  @Test
  void wrappingToolsDirectly() {
    SafeRunSpringAi saferun = saferun();
    // DOC-BEGIN
    ToolCallback guarded = saferun.wrap(weatherTool);
    ToolCallbackProvider guardedTools = saferun.wrapTools(supportTools);
    // DOC-END

    assertThat(guarded).isInstanceOf(SafeRunToolCallback.class);
    assertThat(guardedTools.getToolCallbacks()).hasSize(4)
        .allSatisfy(t -> assertThat(t).isInstanceOf(SafeRunToolCallback.class));
  }

  @Test
  void thePropertiesTableListsEverySafeRunProperty() throws IOException {
    String doc = Files.readString(DOC);
    JsonNode metadata;
    try (InputStream in = getClass().getClassLoader()
        .getResourceAsStream("META-INF/spring-configuration-metadata.json")) {
      metadata = new ObjectMapper().readTree(in);
    }
    for (JsonNode p : metadata.path("properties")) {
      String name = p.path("name").asText();
      if (name.startsWith("saferun.")) {
        assertThat(doc).as(name).contains("| `" + name);
      }
    }
    assertThat(doc).contains("| `management.endpoint.saferun.access`");
  }

  @Test
  void linksResolve() throws IOException {
    String doc = Files.readString(DOC);
    Set<String> anchors = new HashSet<>();
    for (String line : doc.lines().toList()) {
      if (line.startsWith("#")) {
        anchors.add(line.replaceFirst("^#+\\s*", "").toLowerCase(Locale.ROOT)
            .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
      }
    }
    Matcher m = Pattern.compile("\\]\\(([^)\\s]+)\\)").matcher(doc);
    while (m.find()) {
      String link = m.group(1);
      if (link.startsWith("http")) {
        continue;
      }
      if (link.startsWith("#")) {
        assertThat(anchors).as(link).contains(link.substring(1));
      } else {
        assertThat(DOC.getParent().resolve(link.replaceFirst("#.*", ""))).as(link).exists();
      }
    }
  }
}
