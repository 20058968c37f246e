package dev.saferun.springai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.audit.AuditEvent;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ToolContext;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.execution.ToolExecutionException;

/** The ToolCallback decorator on its own: what runs, what the model is told, which context. */
class SafeRunToolCallbackTest {
  private final Fixtures f = new Fixtures();
  private final SafeRunSpringAi saferun = SafeRunSpringAi.builder(f.safeRun)
      .defaultContext(CallContext.of("agent", "support")).build();
  private final RecordingTool refund = new RecordingTool("create_refund");

  @Test
  void allowedCallRunsTheToolAndReturnsItsResult() {
    String out = saferun.wrap(refund).call("{\"amount\":40}", new ToolContext(Map.of()));

    assertThat(out).isEqualTo("create_refund done with {\"amount\":40}");
    assertThat(refund.inputs).containsExactly("{\"amount\":40}");
  }

  @Test
  void deniedCallReturnsTheDenialTextAndTheToolDoesNotRun() {
    String out = saferun.wrap(refund).call("{\"amount\":900}", new ToolContext(Map.of()));

    assertThat(out).isEqualTo("[SAFERUN POLICY DENIED] A single refund cannot exceed $500.00");
    assertThat(refund.inputs).isEmpty();
  }

  @Test
  void singleArgumentCallIsEnforcedToo() {
    String out = saferun.wrap(refund).call("{\"amount\":900}");

    assertThat(out).startsWith(Decision.DENIED_PREFIX);
    assertThat(refund.inputs).isEmpty();
  }

  @Test
  void contextComesFromSafeRunKeysTheConversationIdAndTheDefaults() {
    saferun.wrap(refund).call("{\"amount\":40}", new ToolContext(Map.of(
        SafeRunToolContext.USER, "u1", SafeRunToolContext.TENANT, "acme",
        SafeRunToolContext.CONVERSATION_ID, "conv-9", "userId", "not ours")));

    assertThat(f.decisions()).singleElement().extracting(e -> e.context().asMap())
        .isEqualTo(Map.of("agent", "support", "user", "u1", "tenant", "acme", "run", "conv-9"));
  }

  @Test
  void theToolKeepsItsToolContextUnlessItTalksToAnMcpServer() {
    Map<String, Object> ctx = Map.of(SafeRunToolContext.USER, "u1", "userId", "u1");
    saferun.wrap(refund).call("{\"amount\":40}", new ToolContext(ctx));
    assertThat(refund.contexts.get(0).getContext()).isEqualTo(ctx);

    RecordingTool remote = new RecordingTool("create_refund");
    SafeRunSpringAi stripping = SafeRunSpringAi.builder(f.safeRun)
        .stripSafeRunKeysFor(t -> true).build();
    stripping.wrap(remote).call("{\"amount\":40}", new ToolContext(ctx));
    assertThat(remote.contexts.get(0).getContext()).isEqualTo(Map.of("userId", "u1"));
  }

  @Test
  void definitionAndMetadataAreTheDelegates() {
    RecordingTool direct = new RecordingTool("get_customer", true, in -> "x");
    ToolCallback wrapped = saferun.wrap(direct);

    assertThat(wrapped.getToolDefinition()).isSameAs(direct.getToolDefinition());
    assertThat(wrapped.getToolMetadata().returnDirect()).isTrue();
    assertThat(saferun.wrap(wrapped)).isSameAs(wrapped);
    assertThat(((SafeRunToolCallback) wrapped).delegate()).isSameAs(direct);
  }

  @Test
  void aFailingToolIsRethrownAndItsCountersAreRefunded() {
    RecordingTool failing = new RecordingTool("create_refund", false, in -> {
      throw new ToolExecutionException(null, new IllegalStateException("payments down"));
    });
    ToolCallback tool = saferun.wrap(failing);
    CallContext ctx = CallContext.of("agent", "support");

    for (int i = 0; i < 7; i++) {
      assertThatThrownBy(() -> tool.call("{\"amount\":40}", new ToolContext(Map.of())))
          .isInstanceOf(ToolExecutionException.class);
    }

    assertThat(f.safeRun.counter("create_refund._rate_minute", ctx)).isEqualByComparingTo(
        BigDecimal.ZERO);
    assertThat(f.events).filteredOn(e -> e.type() == AuditEvent.Type.FAILED).hasSize(7);
  }

  @Test
  void deferModeReturnsTheApprovalTextAndTheIdenticalCallPassesOnceApproved() {
    ToolCallback tool = saferun.wrap(refund);

    String first = tool.call("{\"amount\":150}", new ToolContext(Map.of()));
    ApprovalRequest q = f.holds.poll();

    assertThat(first).isEqualTo("[SAFERUN APPROVAL REQUIRED] Approval required by rule"
        + " \"large refund needs approval\" (approval " + q.id() + ")");
    assertThat(refund.inputs).isEmpty();

    f.safeRun.approvals().approve(q.id(), "alice");
    assertThat(tool.call("{\"amount\":150}", new ToolContext(Map.of())))
        .isEqualTo("create_refund done with {\"amount\":150}");
    assertThat(tool.call("{\"amount\":150}", new ToolContext(Map.of())))
        .startsWith(Decision.APPROVAL_PREFIX);
  }

  @Test
  void holdCanSurfaceAsAnExceptionCarryingTheRequest() {
    SafeRunSpringAi throwing = SafeRunSpringAi.builder(f.safeRun).onHold(OnHold.EXCEPTION).build();

    assertThatThrownBy(() -> throwing.wrap(refund).call("{\"amount\":150}",
        new ToolContext(Map.of())))
        .isInstanceOfSatisfying(ApprovalPendingException.class, e -> {
          assertThat(e.request().tool()).isEqualTo("create_refund");
          assertThat(e.request().id()).startsWith("apr_");
          assertThat(e.resumable()).isFalse();
          assertThat(e.getMessage()).startsWith(Decision.APPROVAL_PREFIX);
        });
    assertThat(refund.inputs).isEmpty();
  }

  @Test
  void waitModeBlocksUntilApprovedAndRunsTheEditedArguments() throws Exception {
    Fixtures w = new Fixtures(Fixtures.supportPolicyWithApprovalMode("wait"));
    ToolCallback tool = SafeRunSpringAi.of(w.safeRun).wrap(refund);

    CompletableFuture<String> result = CompletableFuture.supplyAsync(
        () -> tool.call("{\"amount\":150}", new ToolContext(Map.of())));
    ApprovalRequest q = w.holds.poll(30, TimeUnit.SECONDS);
    assertThat(result).isNotDone();
    w.safeRun.approvals().approve(q.id(), "alice", "{\"amount\":120}");

    assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo(
        "[SAFERUN APPROVED WITH CHANGES] alice changed the arguments to {\"amount\":120}\n"
            + "create_refund done with {\"amount\":120}");
    assertThat(refund.inputs).containsExactly("{\"amount\":120}");
  }

  @Test
  void waitModeHoldThatExpiresIsADenial() throws Exception {
    Fixtures w = new Fixtures(Fixtures.supportPolicyWithApprovalMode("wait"));
    ToolCallback tool = SafeRunSpringAi.of(w.safeRun).wrap(refund);

    CompletableFuture<String> result = CompletableFuture.supplyAsync(
        () -> tool.call("{\"amount\":150}", new ToolContext(Map.of())));
    ApprovalRequest q = w.holds.poll(30, TimeUnit.SECONDS);
    w.clock.advance(Duration.ofMinutes(16));

    assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo(
        "[SAFERUN POLICY DENIED] Approval " + q.id() + " expired without a decision");
    assertThat(refund.inputs).isEmpty();
  }
}
