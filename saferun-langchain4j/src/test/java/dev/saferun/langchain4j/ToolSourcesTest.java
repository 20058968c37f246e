package dev.saferun.langchain4j;

import static dev.saferun.langchain4j.ScriptedChatModel.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.agent.tool.ReturnBehavior;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.invocation.InvocationContext;
import dev.langchain4j.invocation.InvocationParameters;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.service.tool.AiServiceTool;
import dev.langchain4j.service.tool.ToolExecutor;
import dev.langchain4j.service.tool.ToolProvider;
import dev.langchain4j.service.tool.ToolProviderRequest;
import dev.langchain4j.service.tool.ToolProviderResult;
import dev.langchain4j.data.message.UserMessage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@link SafeRunLangChain4j#toolProvider} accepts and how it builds the tools. */
class ToolSourcesTest {
  private final Fixtures f = new Fixtures("support.yaml", "guests.yaml");
  private final SafeRunLangChain4j saferun = SafeRunLangChain4j.create(f.safeRun);

  private static ToolProviderRequest requestFor(String user) {
    return ToolProviderRequest.builder()
        .invocationContext(InvocationContext.builder().chatMemoryId("t-1")
            .invocationParameters(InvocationParameters.from("user", user)).build())
        .userMessage(UserMessage.from("hi")).build();
  }

  private static List<String> names(ToolProviderResult r) {
    return r.aiServiceTools().stream().map(AiServiceTool::name).toList();
  }

  /** Tools whose return behaviour must survive wrapping. */
  static class Immediate {
    @Tool(name = "lookup_customer", returnBehavior = ReturnBehavior.IMMEDIATE)
    public String lookup(String customerId) {
      return customerId;
    }
  }

  @Test
  void thePublicApiScanBuildsWhatAiServicesBuilds() {
    Crm crm = new Crm();

    List<AiServiceTool> ours = ToolSources.scanPublic(crm);
    List<AiServiceTool> theirs = ToolSources.scan(crm);

    assertThat(ours).extracting(AiServiceTool::toolSpecification)
        .containsExactlyInAnyOrderElementsOf(
            theirs.stream().map(AiServiceTool::toolSpecification).toList());
    assertThat(ours).extracting(AiServiceTool::returnBehavior)
        .containsOnly(ReturnBehavior.TO_LLM);
    assertThat(ToolSources.scanPublic(new Immediate()).get(0).returnBehavior())
        .isEqualTo(ReturnBehavior.IMMEDIATE);
  }

  @Test
  void returnBehaviourIsKeptAndEveryToolIsGuarded() {
    ToolProviderResult r = saferun.toolProvider(new Immediate()).provideTools(requestFor("alice"));

    AiServiceTool tool = r.aiServiceTools().get(0);
    assertThat(tool.returnBehavior()).isEqualTo(ReturnBehavior.IMMEDIATE);
    assertThat(tool.toolExecutor()).isInstanceOf(GuardedToolExecutor.class);
  }

  @Test
  void mapsAiServiceToolsProvidersAndCollectionsAreAccepted() {
    ToolExecutor echo = (req, memoryId) -> req.arguments();
    ToolSpecification refund = ToolSpecification.builder().name("create_refund")
        .parameters(JsonObjectSchema.builder().addIntegerProperty("amount").build()).build();
    AiServiceTool delete = AiServiceTool.builder()
        .toolSpecification(ToolSpecification.builder().name("delete_customer").build())
        .toolExecutor(echo).build();
    ToolProvider lookups = request -> ToolProviderResult.builder()
        .add(ToolSpecification.builder().name("lookup_customer").build(), echo).build();

    ToolProvider provider = saferun.toolProvider(Map.of(refund, echo), List.of(delete, lookups));

    assertThat(names(provider.provideTools(requestFor("alice"))))
        .containsExactlyInAnyOrder("create_refund", "lookup_customer");
    assertThat(names(provider.provideTools(requestFor("guest"))))
        .containsExactly("lookup_customer");
    ToolExecutor guarded = provider.provideTools(requestFor("alice")).aiServiceTools().stream()
        .filter(t -> t.name().equals("create_refund")).findFirst().orElseThrow().toolExecutor();
    assertThat(guarded.execute(request("c1", "create_refund", "{\"amount\":900}"), "t-1"))
        .isEqualTo("[SAFERUN POLICY DENIED] A single refund cannot exceed $50");
  }

  @Test
  void aToolDefinedTwiceIsRejectedWithItsName() {
    // Every Crm tool is defined twice; which one is named first follows reflection order,
    // which the JVM does not specify.
    assertThatThrownBy(() -> saferun.toolProvider(new Crm(), new Crm()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageMatching("Tool '(lookup_customer|create_refund|delete_customer)' is defined"
            + " more than once");

    ToolProvider provider = saferun.toolProvider(new Crm(),
        (ToolProvider) request -> ToolProviderResult.builder()
            .add(ToolSpecification.builder().name("create_refund").build(),
                (req, memoryId) -> "x").build());
    assertThatThrownBy(() -> provider.provideTools(requestFor("alice")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Tool 'create_refund' is provided more than once");
  }

  @Test
  void sourcesOfNoKnownKindAreRejected() {
    assertThatThrownBy(() -> saferun.toolProvider(Crm.class))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("@Tool");
    assertThatThrownBy(() -> saferun.toolProvider(new Object()))
        .hasMessageContaining("does not have any methods annotated with @Tool");
    assertThatThrownBy(() -> saferun.toolProvider(Map.of("create_refund", "not an executor")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must map ToolSpecification to ToolExecutor");
  }

  @Test
  void aDynamicProviderMakesTheWholeProviderDynamic() {
    ToolProvider dynamic = new ToolProvider() {
      @Override
      public ToolProviderResult provideTools(ToolProviderRequest request) {
        return null;
      }

      @Override
      public boolean isDynamic() {
        return true;
      }
    };

    assertThat(saferun.toolProvider(new Crm()).isDynamic()).isFalse();
    assertThat(saferun.toolProvider(new Crm(), dynamic).isDynamic()).isTrue();
    assertThat(names(saferun.toolProvider(new Crm(), dynamic).provideTools(requestFor("alice"))))
        .containsExactlyInAnyOrder("lookup_customer", "create_refund");
  }
}
