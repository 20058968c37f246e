package dev.saferun.langchain4j;

import static dev.saferun.langchain4j.ScriptedChatModel.request;
import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.invocation.InvocationContext;
import dev.langchain4j.service.tool.AiServiceTool;
import dev.langchain4j.service.tool.ToolExecutionResult;
import dev.langchain4j.service.tool.ToolExecutor;
import dev.langchain4j.service.tool.ToolProvider;
import dev.langchain4j.service.tool.ToolProviderRequest;
import dev.saferun.audit.AuditEvent;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SafeRun's per-tool controls through the adapter: result controls and secret masking on what
 * the model sees, argument schemas taken from the tool specifications, error results counted by
 * the error breaker.
 */
class ControlsTest {
  private final Fixtures f = new Fixtures("controls.yaml");
  private final SafeRunLangChain4j saferun = SafeRunLangChain4j.create(f.safeRun);
  private final InvocationContext conversation =
      InvocationContext.builder().chatMemoryId("t-1").build();

  private ToolExecutor tool(String name, ToolProvider provider) {
    ToolProviderRequest request = ToolProviderRequest.builder().invocationContext(conversation)
        .userMessage(UserMessage.from("hi")).build();
    return provider.provideTools(request).aiServiceTools().stream()
        .filter(t -> t.name().equals(name)).map(AiServiceTool::toolExecutor)
        .findFirst().orElseThrow();
  }

  @Test
  void theModelSeesTheResultAfterRedactionAndTruncation() {
    ToolExecutor lookup = saferun.wrap((ToolExecutor) (r, id) ->
        "card 4242424242424242, notes: " + "x".repeat(50));

    ToolExecutionResult result = lookup.executeWithContext(
        request("c1", "lookup_customer", "{\"customerId\":\"cus_1\"}"), conversation);

    assertThat(result.resultText()).startsWith("card ***, notes: xxx")
        .contains("[SAFERUN] result truncated: 40 of")
        .doesNotContain("4242424242424242");
  }

  @Test
  void argumentsAreCheckedAgainstTheSchemaTheModelIsShown() {
    ToolExecutor refund = tool("create_refund", saferun.toolProvider(new Crm()));

    ToolExecutionResult ok = refund.executeWithContext(
        request("c1", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":20}"), conversation);
    ToolExecutionResult extra = refund.executeWithContext(request("c2", "create_refund",
        "{\"customerId\":\"cus_1\",\"amount\":20,\"note\":\"and wire $5000\"}"), conversation);
    ToolExecutionResult wrongType = refund.executeWithContext(request("c3", "create_refund",
        "{\"customerId\":\"cus_1\",\"amount\":\"20\"}"), conversation);

    assertThat(ok.resultText()).isEqualTo("Refunded $20 to cus_1");
    assertThat(extra.resultText()).startsWith("[SAFERUN POLICY DENIED] Arguments do not match"
        + " the schema of tool \"create_refund\"");
    assertThat(wrongType.resultText()).startsWith("[SAFERUN POLICY DENIED] Arguments do not match");
  }

  @Test
  void aProvidersToolSchemaIsRegisteredWhenItIsListed() {
    ToolSpecification spec = ToolSpecification.builder().name("create_refund")
        .parameters(dev.langchain4j.model.chat.request.json.JsonObjectSchema.builder()
            .addIntegerProperty("amount").required("amount").build())
        .build();
    ToolExecutor echo = (r, id) -> "ok";
    ToolProvider remote = request -> dev.langchain4j.service.tool.ToolProviderResult.builder()
        .add(spec, echo).build();

    ToolExecutor refund = tool("create_refund", saferun.toolProvider(remote));

    assertThat(refund.execute(request("c1", "create_refund", "{\"amount\":5}"), "t-1"))
        .isEqualTo("ok");
    assertThat(refund.execute(request("c2", "create_refund", "{}"), "t-1"))
        .startsWith("[SAFERUN POLICY DENIED] Arguments do not match");
  }

  @Test
  void errorResultsCountAsFailuresForTheErrorBreaker() {
    ToolExecutor declining = new ToolExecutor() {
      @Override
      public String execute(ToolExecutionRequest request, Object memoryId) {
        throw new UnsupportedOperationException();
      }

      @Override
      public ToolExecutionResult executeWithContext(ToolExecutionRequest r, InvocationContext c) {
        return ToolExecutionResult.builder().isError(true).resultText("card declined").build();
      }
    };
    f.safeRun.registerSchema("create_refund", "{\"type\":\"object\"}");
    ToolExecutor refund = saferun.wrap(declining);
    ToolExecutionRequest call = request("c1", "create_refund", "{}");

    assertThat(refund.executeWithContext(call, conversation).resultText())
        .isEqualTo("card declined");
    assertThat(refund.executeWithContext(call, conversation).isError()).isTrue();
    ToolExecutionResult third = refund.executeWithContext(call, conversation);

    assertThat(third.resultText()).startsWith("[SAFERUN POLICY DENIED] Tool \"create_refund\""
        + " is failing");
    assertThat(f.audit.ofType(AuditEvent.Type.FAILED)).hasSize(2)
        .allMatch(e -> "card declined".equals(e.message()));
    f.clock.advance(Duration.ofSeconds(30));
    assertThat(refund.executeWithContext(call, conversation).resultText())
        .isEqualTo("card declined");
  }

  @Test
  void attributesOfAnUnchangedResultAreKept() {
    ToolExecutor tool = (ToolExecutor) new ToolExecutor() {
      @Override
      public String execute(ToolExecutionRequest request, Object memoryId) {
        throw new UnsupportedOperationException();
      }

      @Override
      public ToolExecutionResult executeWithContext(ToolExecutionRequest r, InvocationContext c) {
        return ToolExecutionResult.builder().resultText("short").attributes(Map.of("k", "v"))
            .build();
      }
    };

    ToolExecutionResult result = saferun.wrap(tool).executeWithContext(
        request("c1", "lookup_customer", "{}"), conversation);

    assertThat(result.resultText()).isEqualTo("short");
    assertThat(result.attributes()).containsExactlyEntriesOf(Map.of("k", "v"));
  }
}
