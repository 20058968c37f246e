package dev.saferun.langchain4j;

import static dev.saferun.langchain4j.ScriptedChatModel.answer;
import static dev.saferun.langchain4j.ScriptedChatModel.call;
import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.invocation.InvocationParameters;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.MemoryId;
import dev.langchain4j.service.UserMessage;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.audit.AuditEvent;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Approval holds inside the AI Service's tool loop, in wait and defer mode. */
class ApprovalTest {
  interface SupportAgent {
    String chat(@MemoryId String ticket, @UserMessage String message, InvocationParameters params);
  }

  private final BlockingQueue<ApprovalRequest> held = new LinkedBlockingQueue<>();
  private final ExecutorService caller = Executors.newSingleThreadExecutor();
  private final Crm crm = new Crm();

  @AfterEach
  void stop() {
    caller.shutdownNow();
  }

  private SupportAgent agent(Fixtures f, ScriptedChatModel model) {
    return SafeRunLangChain4j.create(f.safeRun)
        .install(AiServices.builder(SupportAgent.class), crm)
        .chatModel(model)
        .chatMemoryProvider(id -> MessageWindowChatMemory.withMaxMessages(100))
        .build();
  }

  /** Starts a conversation turn on another thread: in wait mode it blocks inside the tool call. */
  private CompletableFuture<String> ask(SupportAgent agent, String ticket) {
    return CompletableFuture.supplyAsync(() -> agent.chat(ticket, "refund $500 to cus_1",
        InvocationParameters.from("user", "alice")), caller);
  }

  private ApprovalRequest nextHold() throws InterruptedException {
    ApprovalRequest q = held.poll(30, TimeUnit.SECONDS);
    assertThat(q).as("a held call").isNotNull();
    return q;
  }

  private static ScriptedChatModel bigRefund() {
    return ScriptedChatModel.replying(
        call("call_1", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":500}"),
        answer("Done."));
  }

  @Test
  void waitModeRunsTheApprovedEditedArgumentsAndTheResultSaysSo() throws Exception {
    Fixtures f = new Fixtures(held::add, "approvals-wait.yaml");
    ScriptedChatModel model = bigRefund();
    CompletableFuture<String> reply = ask(agent(f, model), "t-1");

    ApprovalRequest q = nextHold();
    assertThat(q.tool()).isEqualTo("create_refund");
    assertThat(q.context().asMap()).containsEntry("run", "t-1").containsEntry("user", "alice");
    assertThat(reply).isNotDone();
    f.safeRun.approvals().approve(q.id(), "supervisor",
        "{\"customerId\":\"cus_1\",\"amount\":150}");

    assertThat(reply.get(30, TimeUnit.SECONDS)).isEqualTo("Done.");
    assertThat(crm.calls()).containsExactly("create_refund cus_1 150");
    ToolExecutionResultMessage result = model.toolResults().get(0);
    assertThat(result.text()).isEqualTo("[SAFERUN APPROVED WITH CHANGES] supervisor changed the"
        + " arguments to {\"amount\":150,\"customerId\":\"cus_1\"}\nRefunded $150 to cus_1");
    assertThat(result.isError()).isFalse();
    assertThat(result.attributes()).containsEntry("saferun.approval", q.id())
        .containsEntry("saferun.approver", "supervisor")
        .containsEntry("saferun.arguments", "{\"amount\":150,\"customerId\":\"cus_1\"}");
  }

  @Test
  void waitModeApprovedAsIsRunsTheOriginalCall() throws Exception {
    Fixtures f = new Fixtures(held::add, "approvals-wait.yaml");
    ScriptedChatModel model = bigRefund();
    CompletableFuture<String> reply = ask(agent(f, model), "t-1");

    f.safeRun.approvals().approve(nextHold().id(), "supervisor");

    assertThat(reply.get(30, TimeUnit.SECONDS)).isEqualTo("Done.");
    assertThat(crm.calls()).containsExactly("create_refund cus_1 500");
    assertThat(model.toolResults().get(0).text()).isEqualTo("Refunded $500 to cus_1");
  }

  @Test
  void waitModeAnEditAboveTheHardCapIsStillDenied() throws Exception {
    Fixtures f = new Fixtures(held::add, "approvals-wait.yaml");
    ScriptedChatModel model = bigRefund();
    CompletableFuture<String> reply = ask(agent(f, model), "t-1");

    f.safeRun.approvals().approve(nextHold().id(), "supervisor",
        "{\"customerId\":\"cus_1\",\"amount\":5000}");

    reply.get(30, TimeUnit.SECONDS);
    assertThat(crm.calls()).isEmpty();
    assertThat(model.toolResults().get(0).text())
        .isEqualTo("[SAFERUN POLICY DENIED] Denied by rule \"hard cap\"");
  }

  @Test
  void waitModeADeniedRequestIsADenialWithTheApproversReason() throws Exception {
    Fixtures f = new Fixtures(held::add, "approvals-wait.yaml");
    ScriptedChatModel model = bigRefund();
    CompletableFuture<String> reply = ask(agent(f, model), "t-1");

    f.safeRun.approvals().deny(nextHold().id(), "supervisor", "customer already refunded");

    reply.get(30, TimeUnit.SECONDS);
    assertThat(crm.calls()).isEmpty();
    ToolExecutionResultMessage result = model.toolResults().get(0);
    assertThat(result.text()).isEqualTo(
        "[SAFERUN POLICY DENIED] Denied by approver supervisor: customer already refunded");
    assertThat(result.isError()).isTrue();
  }

  @Test
  void waitModeAnExpiredRequestIsADenial() throws Exception {
    Fixtures f = new Fixtures(held::add, "approvals-wait.yaml");
    ScriptedChatModel model = bigRefund();
    CompletableFuture<String> reply = ask(agent(f, model), "t-1");
    ApprovalRequest q = nextHold();

    f.clock.advance(Duration.ofMinutes(11));

    reply.get(30, TimeUnit.SECONDS);
    assertThat(crm.calls()).isEmpty();
    assertThat(model.toolResults().get(0).text()).isEqualTo(
        "[SAFERUN POLICY DENIED] Approval " + q.id() + " expired without a decision");
    assertThat(f.audit.ofType(AuditEvent.Type.EXPIRED)).hasSize(1);
  }

  @Test
  void deferModeReturnsAtOnceAndTheSameCallRunsOnceAfterApproval() throws Exception {
    Fixtures f = new Fixtures(held::add, "approvals-defer.yaml");
    ScriptedChatModel model = new ScriptedChatModel(r -> r.messages().get(r.messages().size() - 1)
        instanceof ToolExecutionResultMessage ? answer("Noted.")
        : call("call_" + r.messages().size(), "create_refund",
            "{\"customerId\":\"cus_1\",\"amount\":500}"));
    SupportAgent agent = agent(f, model);

    ask(agent, "t-1").get(30, TimeUnit.SECONDS);
    ApprovalRequest q = nextHold();
    ToolExecutionResultMessage first = model.toolResults().get(0);
    assertThat(first.text()).isEqualTo("[SAFERUN APPROVAL REQUIRED] Approval required by rule"
        + " \"large refunds need a supervisor\" (approval " + q.id() + ")");
    assertThat(first.isError()).isFalse();
    assertThat(first.attributes()).containsEntry("saferun.outcome", "hold")
        .containsEntry("saferun.approval", q.id());
    assertThat(crm.calls()).isEmpty();

    f.safeRun.approvals().approve(q.id(), "supervisor");
    ask(agent, "t-1").get(30, TimeUnit.SECONDS);
    assertThat(crm.calls()).containsExactly("create_refund cus_1 500");

    ask(agent, "t-1").get(30, TimeUnit.SECONDS);
    assertThat(crm.calls()).hasSize(1);
    assertThat(model.toolResults()).last().extracting(ToolExecutionResultMessage::text)
        .asString().startsWith("[SAFERUN APPROVAL REQUIRED]");
  }
}
