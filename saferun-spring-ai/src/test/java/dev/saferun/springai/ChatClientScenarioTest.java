package dev.saferun.springai;

import static dev.saferun.springai.ScriptedChatModel.call;
import static dev.saferun.springai.ScriptedChatModel.text;
import static dev.saferun.springai.ScriptedChatModel.toolCalls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.audit.AuditEvent;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.client.advisor.ToolCallingAdvisor;
import org.springframework.ai.chat.memory.ChatMemory;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionResult;
import org.springframework.ai.tool.observation.ToolCallingObservationContext;

/**
 * SafeRun in front of real Spring AI ChatClient tool calling, with a scripted model: what the
 * model is offered, what it is told, what runs, and with which identity.
 */
class ChatClientScenarioTest {
  private final Fixtures f = new Fixtures();
  private final SupportTools tools = new SupportTools();
  private final ScriptedChatModel model = new ScriptedChatModel();

  private ChatClient client(SafeRunSpringAi saferun, ObservationRegistry registry) {
    ToolCallingManager manager = saferun.toolCallingManager(
        ToolCallingManager.builder().observationRegistry(registry).build());
    return ChatClient.builder(model, registry, null, null,
            ToolCallingAdvisor.builder().toolCallingManager(manager))
        .defaultAdvisors(saferun.advisor())
        .build();
  }

  private ChatClient client(SafeRunSpringAi saferun) {
    return client(saferun, ObservationRegistry.NOOP);
  }

  private ChatClient client() {
    return client(SafeRunSpringAi.of(f.safeRun));
  }

  private ChatClient.ChatClientRequestSpec ask(ChatClient c, String question) {
    return c.prompt(question).tools(tools)
        .toolContext(SafeRunToolContext.of("user", "u1", "tenant", "acme"));
  }

  @Test
  void theModelIsNeverOfferedAHiddenTool() {
    model.thenText("hello");

    ask(client(), "hi").call().content();

    assertThat(model.toolsOffered(0))
        .containsExactlyInAnyOrder("get_customer", "create_refund", "send_email");
  }

  @Test
  void hiddenToolsDependOnTheCallContext() {
    Fixtures two = new Fixtures(PolicySet.of(
        PolicyLoader.loadString(Fixtures.resource("policies/support.yaml"), "support.yaml"),
        PolicyLoader.loadString(Fixtures.resource("policies/trial-tenant.yaml"), "trial.yaml")));
    ChatClient c = client(SafeRunSpringAi.of(two.safeRun));
    model.thenText("a").thenText("b");

    c.prompt("hi").tools(tools).toolContext(SafeRunToolContext.of("tenant", "trial"))
        .call().content();
    c.prompt("hi").tools(tools).toolContext(SafeRunToolContext.of("tenant", "acme"))
        .call().content();

    assertThat(model.toolsOffered(0)).containsExactlyInAnyOrder("get_customer", "send_email");
    assertThat(model.toolsOffered(1))
        .containsExactlyInAnyOrder("get_customer", "create_refund", "send_email");
  }

  @Test
  void aDeniedCallTellsTheModelWhyAndTheConversationGoesOn() {
    model.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":900}"))
        .thenText("I cannot refund that much.");

    String answer = ask(client(), "refund 900").call().content();

    assertThat(answer).isEqualTo("I cannot refund that much.");
    assertThat(model.toolResults(1)).containsExactly(
        Map.entry("c1", "[SAFERUN POLICY DENIED] A single refund cannot exceed $500.00"));
    assertThat(tools.ran).isEmpty();
  }

  @Test
  void anAllowedCallRunsWithTheRequestsIdentityInItsContext() {
    model.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":40}"))
        .thenText("done");

    ask(client(), "refund 40")
        .advisors(a -> a.param(ChatMemory.CONVERSATION_ID, "conv-42"))
        .call().content();

    assertThat(tools.ran).containsExactly("create_refund cus_1 40");
    assertThat(model.toolResults(1)).containsExactly(Map.entry("c1", "\"refunded 40 to cus_1\""));
    assertThat(f.decisions()).singleElement().satisfies(e -> {
      assertThat(e.type()).isEqualTo(AuditEvent.Type.ALLOWED);
      assertThat(e.context()).isEqualTo(CallContext.of("user", "u1", "tenant", "acme",
          "run", "conv-42"));
    });
    // The @Tool method sees SafeRun's keys too (they are only stripped for MCP tools).
    assertThat(tools.contexts.get(0)).containsEntry(SafeRunToolContext.RUN, "conv-42");
  }

  @Test
  void identityCanComeFromAdvisorParameters() {
    model.thenToolCalls(call("c1", "get_customer", "{\"id\":\"cus_1\"}")).thenText("ok");

    client().prompt("who").tools(tools)
        .advisors(a -> a.param(SafeRunToolContext.USER, "u9").param(SafeRunToolContext.AGENT,
            "triage"))
        .call().content();

    assertThat(f.decisions()).singleElement().extracting(AuditEvent::context)
        .isEqualTo(CallContext.of("user", "u9", "agent", "triage"));
  }

  @Test
  void aCallToAHiddenToolIsDeniedAndAuditedInsteadOfFailingTheRequest() {
    model.thenToolCalls(call("c1", "delete_customer", "{\"id\":\"cus_1\"}"))
        .thenText("I may not delete customers.");

    String answer = ask(client(), "delete cus_1").call().content();

    assertThat(answer).isEqualTo("I may not delete customers.");
    assertThat(model.toolResults(1)).containsExactly(Map.entry("c1",
        "[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy"));
    assertThat(f.decisions()).singleElement().satisfies(e -> {
      assertThat(e.type()).isEqualTo(AuditEvent.Type.DENIED);
      assertThat(e.tool()).isEqualTo("delete_customer");
    });
    assertThat(tools.ran).isEmpty();
  }

  @Test
  void aCallToAToolNobodyRegisteredIsDeniedInsteadOfFailingTheRequest() {
    model.thenToolCalls(call("c1", "wire_money", "{}")).thenText("ok");

    ask(client(), "wire").call().content();

    assertThat(model.toolResults(1)).containsExactly(
        Map.entry("c1", "[SAFERUN POLICY DENIED] Tool \"wire_money\" is not available"));
  }

  @Test
  void everyCallOfABatchIsAnsweredInOrder() {
    model.thenToolCalls(
            call("c1", "get_customer", "{\"id\":\"cus_1\"}"),
            call("c2", "delete_customer", "{\"id\":\"cus_1\"}"),
            call("c3", "create_refund", "{\"customer\":\"cus_1\",\"amount\":900}"),
            call("c4", "send_email", "{\"to\":\"cus_1@example.com\",\"body\":\"hi\"}"))
        .thenText("done");

    ask(client(), "go").call().content();

    Map<String, String> results = model.toolResults(1);
    assertThat(results.keySet()).containsExactly("c1", "c2", "c3", "c4");
    assertThat(results.get("c1")).contains("cus_1@example.com");
    assertThat(results.get("c2")).isEqualTo(
        "[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy");
    assertThat(results.get("c3")).startsWith(Decision.DENIED_PREFIX);
    assertThat(results.get("c4")).isEqualTo("\"sent\"");
    assertThat(tools.ran).containsExactly("get_customer cus_1", "send_email cus_1@example.com");
  }

  @Test
  void deferModeTellsTheModelTheCallAwaitsApproval() {
    model.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":150}"))
        .thenText("A supervisor must approve this.");

    ask(client(), "refund 150").call().content();

    ApprovalRequest q = f.holds.poll();
    assertThat(model.toolResults(1).get("c1")).isEqualTo("[SAFERUN APPROVAL REQUIRED] Approval"
        + " required by rule \"large refund needs approval\" (approval " + q.id() + ")");
    assertThat(tools.ran).isEmpty();
  }

  @Test
  void waitModeBlocksTheRequestUntilApprovedThenRunsTheEditedCall() throws Exception {
    Fixtures w = new Fixtures(Fixtures.supportPolicyWithApprovalMode("wait"));
    ChatClient c = client(SafeRunSpringAi.of(w.safeRun));
    model.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":150}"))
        .thenText("Refunded after approval.");

    CompletableFuture<String> answer = CompletableFuture.supplyAsync(
        () -> ask(c, "refund 150").call().content());
    ApprovalRequest q = w.holds.poll(30, TimeUnit.SECONDS);
    assertThat(answer).isNotDone();
    w.safeRun.approvals().approve(q.id(), "alice",
        "{\"customer\":\"cus_1\",\"amount\":120}");

    assertThat(answer.get(30, TimeUnit.SECONDS)).isEqualTo("Refunded after approval.");
    assertThat(tools.ran).containsExactly("create_refund cus_1 120");
    assertThat(model.toolResults(1).get("c1")).startsWith(
        "[SAFERUN APPROVED WITH CHANGES] alice changed the arguments to");
  }

  @Test
  void aHoldCanStopTheRequestAndTheConversationResumesWithoutRunningAnythingTwice() {
    SafeRunSpringAi saferun = SafeRunSpringAi.builder(f.safeRun).onHold(OnHold.EXCEPTION).build();
    SafeRunToolCallingManager manager = saferun.toolCallingManager();
    ChatClient c = ChatClient.builder(model, ObservationRegistry.NOOP, null, null,
            ToolCallingAdvisor.builder().toolCallingManager(manager))
        .defaultAdvisors(saferun.advisor()).build();
    model.thenToolCalls(
        call("c1", "get_customer", "{\"id\":\"cus_1\"}"),
        call("c2", "create_refund", "{\"customer\":\"cus_1\",\"amount\":150}"),
        call("c3", "create_refund", "{\"customer\":\"cus_2\",\"amount\":40}"));

    ApprovalPendingException pending = (ApprovalPendingException) org.assertj.core.api
        .Assertions.catchThrowable(() -> ask(c, "refunds").call().content());

    assertThat(pending).isNotNull();
    assertThat(pending.resumable()).isTrue();
    assertThat(pending.toolCallId()).isEqualTo("c2");
    assertThat(pending.completedResponses()).extracting(ToolResponseMessage.ToolResponse::id)
        .containsExactly("c1");
    assertThat(pending.toolContext()).containsEntry(SafeRunToolContext.USER, "u1");
    assertThat(tools.ran).containsExactly("get_customer cus_1");

    // Still pending: resuming stops again on the same request.
    assertThatThrownBy(() -> manager.resume(pending, tools))
        .isInstanceOfSatisfying(ApprovalPendingException.class,
            again -> assertThat(again.request().id()).isEqualTo(pending.request().id()));

    f.safeRun.approvals().approve(pending.request().id(), "alice",
        "{\"customer\":\"cus_1\",\"amount\":120}");
    ToolExecutionResult resumed = manager.resume(pending, tools);

    assertThat(tools.ran).containsExactly("get_customer cus_1", "create_refund cus_1 120",
        "create_refund cus_2 40");
    List<Message> history = resumed.conversationHistory();
    ToolResponseMessage last = (ToolResponseMessage) history.get(history.size() - 1);
    assertThat(last.getResponses()).extracting(ToolResponseMessage.ToolResponse::id)
        .containsExactly("c1", "c2", "c3");
    assertThat(last.getResponses().get(1).responseData())
        .startsWith("[SAFERUN APPROVED WITH CHANGES] alice");

    model.thenText("All refunds done.");
    String answer = c.prompt().messages(history).tools(tools).toolContext(pending.toolContext())
        .call().content();
    assertThat(answer).isEqualTo("All refunds done.");
    assertThat(tools.ran).hasSize(3);
    assertThatThrownBy(() -> manager.resume(pending, tools))
        .isInstanceOf(dev.saferun.approval.ApprovalException.class);
  }

  @Test
  void aDeniedApprovalResumesWithTheDenialForTheModel() {
    SafeRunSpringAi saferun = SafeRunSpringAi.builder(f.safeRun).onHold(OnHold.EXCEPTION).build();
    SafeRunToolCallingManager manager = saferun.toolCallingManager();
    ChatClient c = ChatClient.builder(model, ObservationRegistry.NOOP, null, null,
            ToolCallingAdvisor.builder().toolCallingManager(manager))
        .defaultAdvisors(saferun.advisor()).build();
    model.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":150}"));
    ApprovalPendingException pending = (ApprovalPendingException) org.assertj.core.api
        .Assertions.catchThrowable(() -> ask(c, "refund").call().content());

    f.safeRun.approvals().deny(pending.request().id(), "bob", "not eligible");
    ToolExecutionResult resumed = manager.resume(pending, tools);

    ToolResponseMessage last = (ToolResponseMessage) resumed.conversationHistory()
        .get(resumed.conversationHistory().size() - 1);
    assertThat(last.getResponses()).singleElement().extracting(
        ToolResponseMessage.ToolResponse::responseData)
        .isEqualTo("[SAFERUN POLICY DENIED] Denied by approver bob: not eligible");
    assertThat(tools.ran).isEmpty();
  }

  @Test
  void streamingRequestsAreGuardedTheSameWay() {
    model.thenToolCalls(
            call("c1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":900}"),
            call("c2", "create_refund", "{\"customer\":\"cus_1\",\"amount\":30}"))
        .thenText("streamed");

    List<String> chunks = ask(client(), "refunds").stream().content().collectList()
        .block(java.time.Duration.ofSeconds(30));

    assertThat(String.join("", chunks)).isEqualTo("streamed");
    assertThat(model.toolResults(1).get("c1")).startsWith(Decision.DENIED_PREFIX);
    assertThat(tools.ran).containsExactly("create_refund cus_1 30");
    assertThat(f.decisions()).allSatisfy(e -> assertThat(e.context().get("user")).isEqualTo("u1"));
  }

  @Test
  void shadowModeRunsTheCallAndAuditsWhatWouldHaveBeenDenied() {
    String yaml = Fixtures.resource("policies/support.yaml")
        .replace("default: deny", "default: deny\nmode: shadow");
    Fixtures s = new Fixtures(PolicySet.of(PolicyLoader.loadString(yaml, "support.yaml")));
    model.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":900}"))
        .thenText("done");

    ask(client(SafeRunSpringAi.of(s.safeRun)), "refund 900").call().content();

    assertThat(tools.ran).containsExactly("create_refund cus_1 900");
    assertThat(s.decisions()).singleElement().satisfies(e -> {
      assertThat(e.type()).isEqualTo(AuditEvent.Type.ALLOWED);
      assertThat(e.shadow().outcome()).isEqualTo(Decision.Outcome.DENY);
      assertThat(e.shadow().rule()).isEqualTo("max single refund");
    });
  }

  @Test
  void theToolObservationCarriesTheDecision() {
    ObservationRegistry registry = ObservationRegistry.create();
    List<ToolCallingObservationContext> stopped = new CopyOnWriteArrayList<>();
    registry.observationConfig().observationHandler(new ObservationHandler<>() {
      @Override
      public boolean supportsContext(Observation.Context context) {
        return context instanceof ToolCallingObservationContext;
      }

      @Override
      public void onStop(Observation.Context context) {
        stopped.add((ToolCallingObservationContext) context);
      }
    });
    SafeRunSpringAi saferun = SafeRunSpringAi.builder(f.safeRun).observationRegistry(registry)
        .build();
    model.thenToolCalls(
            call("c1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":40}"),
            call("c2", "create_refund", "{\"customer\":\"cus_1\",\"amount\":900}"))
        .thenText("done");

    ask(client(saferun, registry), "refunds").call().content();

    assertThat(stopped).extracting(
            ctx -> ctx.getLowCardinalityKeyValue(SafeRunSpringAi.DECISION_KEY).getValue())
        .containsExactly("allow", "deny");
    assertThat(stopped.get(0).getLowCardinalityKeyValue("spring.ai.tool.definition.name")
        .getValue()).isEqualTo("create_refund");
  }
}
