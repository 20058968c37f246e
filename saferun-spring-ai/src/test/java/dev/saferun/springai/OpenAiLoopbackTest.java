package dev.saferun.springai;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.observation.ObservationRegistry;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.client.advisor.ToolCallingAdvisor;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;

/**
 * The real {@link OpenAiChatModel} against a loopback server: the HTTP request bodies show what
 * a real model would be sent, through the real OpenAI client and JSON mapping.
 */
class OpenAiLoopbackTest {
  private final LoopbackOpenAi openAi = new LoopbackOpenAi();
  private final Fixtures f = new Fixtures();
  private final SupportTools tools = new SupportTools();
  private final SafeRunSpringAi saferun = SafeRunSpringAi.of(f.safeRun);
  private final OpenAiChatModel model = OpenAiChatModel.builder()
      .options(OpenAiChatOptions.builder().baseUrl(openAi.baseUrl()).apiKey("test-key")
          .model("gpt-4o-mini").maxRetries(0).build())
      .build();
  private final ChatClient chat = ChatClient.builder(model, ObservationRegistry.NOOP, null, null,
          ToolCallingAdvisor.builder().toolCallingManager(saferun.toolCallingManager()))
      .defaultAdvisors(saferun.advisor())
      .build();

  @AfterEach
  void stop() {
    openAi.close();
  }

  @Test
  void hiddenToolsAreAbsentFromTheHttpRequestAndDenialsAreTheToolMessages() {
    openAi.thenToolCalls(
            new String[] {"call_1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":900}"},
            new String[] {"call_2", "delete_customer", "{\"id\":\"cus_1\"}"},
            new String[] {"call_3", "get_customer", "{\"id\":\"cus_1\"}"})
        .thenText("Done what I was allowed to.");

    String answer = chat.prompt("Refund cus_1 $900 and delete them").tools(tools)
        .toolContext(SafeRunToolContext.of("user", "u1")).call().content();

    assertThat(answer).isEqualTo("Done what I was allowed to.");
    assertThat(openAi.requests).hasSize(2);
    assertThat(openAi.toolNames(0))
        .containsExactlyInAnyOrder("get_customer", "create_refund", "send_email");
    assertThat(openAi.requests.get(0).toString()).doesNotContain("delete_customer");

    List<JsonNode> toolMessages = openAi.toolMessages(1);
    assertThat(toolMessages).extracting(m -> m.path("tool_call_id").asText())
        .containsExactly("call_1", "call_2", "call_3");
    assertThat(toolMessages.get(0).path("content").asText())
        .isEqualTo("[SAFERUN POLICY DENIED] A single refund cannot exceed $500.00");
    assertThat(toolMessages.get(1).path("content").asText())
        .isEqualTo("[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy");
    assertThat(toolMessages.get(2).path("content").asText()).contains("cus_1@example.com");
    assertThat(tools.ran).containsExactly("get_customer cus_1");
    // SafeRun's identity never leaves the process: it is not part of what OpenAI receives.
    assertThat(openAi.requests.get(1).toString()).doesNotContain("saferun.");
  }
}
