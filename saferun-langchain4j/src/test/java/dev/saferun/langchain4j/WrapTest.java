package dev.saferun.langchain4j;

import static dev.saferun.langchain4j.ScriptedChatModel.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.invocation.InvocationContext;
import dev.langchain4j.invocation.InvocationParameters;
import dev.langchain4j.service.tool.ToolExecutionResult;
import dev.langchain4j.service.tool.ToolExecutor;
import dev.saferun.audit.AuditEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link SafeRunLangChain4j#wrap}: one LangChain4j tool executor behind SafeRun. */
class WrapTest {
  private final Fixtures f = new Fixtures("support.yaml");
  private final SafeRunLangChain4j saferun = SafeRunLangChain4j.create(f.safeRun);
  private final List<String> ran = new ArrayList<>();

  /** A tool that records the arguments it ran with. */
  private final ToolExecutor tool = new ToolExecutor() {
    @Override
    public String execute(ToolExecutionRequest request, Object memoryId) {
      synchronized (ran) {
        ran.add(request.arguments());
      }
      return "done";
    }
  };

  private static InvocationContext conversation(String memoryId) {
    return InvocationContext.builder().chatMemoryId(memoryId)
        .interfaceName("com.example.SupportAgent")
        .invocationParameters(InvocationParameters.from(Map.of("user", "u1")))
        .build();
  }

  @Test
  void anAllowedCallRunsTheToolAndReturnsItsResultAsIs() {
    ToolExecutionResult result = saferun.wrap(tool).executeWithContext(
        request("c1", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":20}"),
        conversation("t-1"));

    assertThat(result.isError()).isFalse();
    assertThat(result.resultText()).isEqualTo("done");
    assertThat(result.attributes()).isEmpty();
    assertThat(ran).containsExactly("{\"customerId\":\"cus_1\",\"amount\":20}");
  }

  @Test
  void aDeniedCallDoesNotRunAndTheResultIsAnErrorWithTheDenialText() {
    ToolExecutionResult result = saferun.wrap(tool).executeWithContext(
        request("c1", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":900}"),
        conversation("t-1"));

    assertThat(ran).isEmpty();
    assertThat(result.isError()).isTrue();
    assertThat(result.resultText())
        .isEqualTo("[SAFERUN POLICY DENIED] A single refund cannot exceed $50");
    assertThat(result.attributes()).containsEntry("saferun.outcome", "deny")
        .containsEntry("saferun.policy", "support")
        .containsEntry("saferun.rule", "max single refund");
  }

  @Test
  void theLegacyExecuteIsGuardedTooAndTheMemoryIdIsTheRun() {
    ToolExecutor guarded = saferun.wrap(tool);
    for (int i = 0; i < 3; i++) {
      assertThat(guarded.execute(request("c" + i, "create_refund",
          "{\"customerId\":\"cus_1\",\"amount\":10}"), "t-7")).isEqualTo("done");
    }

    String fourth = guarded.execute(
        request("c4", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":10}"), "t-7");

    assertThat(fourth).isEqualTo("[SAFERUN POLICY DENIED] No more than 3 refunds per conversation");
    assertThat(ran).hasSize(3);
    assertThat(f.audit.ofType(AuditEvent.Type.DENIED).get(0).context().get("run"))
        .isEqualTo("t-7");
  }

  @Test
  void aToolThatReturnsAnErrorResultGetsItsCountersRefunded() {
    List<Boolean> fail = new ArrayList<>(List.of(true, true, false, false, false, false));
    ToolExecutor flaky = new ToolExecutor() {
      @Override
      public String execute(ToolExecutionRequest request, Object memoryId) {
        throw new UnsupportedOperationException();
      }

      @Override
      public ToolExecutionResult executeWithContext(ToolExecutionRequest r, InvocationContext c) {
        boolean error = fail.remove(0);
        return ToolExecutionResult.builder().isError(error)
            .resultText(error ? "payment gateway timeout" : "ok").build();
      }
    };
    ToolExecutor guarded = saferun.wrap(flaky);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ToolExecutionResult r = guarded.executeWithContext(
          request("c" + i, "create_refund", "{\"customerId\":\"cus_1\",\"amount\":10}"),
          conversation("t-2"));
      texts.add(r.resultText());
    }

    // Two failures cost nothing; three successes fill the cap of 3; the sixth is denied.
    assertThat(texts).containsExactly("payment gateway timeout", "payment gateway timeout",
        "ok", "ok", "ok", "[SAFERUN POLICY DENIED] No more than 3 refunds per conversation");
    assertThat(f.audit.ofType(AuditEvent.Type.FAILED)).hasSize(2);
  }

  @Test
  void aToolThatThrowsPropagatesTheExceptionAfterARefund() {
    IllegalStateException boom = new IllegalStateException("gateway down");
    ToolExecutor throwing = (request, memoryId) -> {
      throw boom;
    };
    ToolExecutor guarded = saferun.wrap(throwing);
    ToolExecutionRequest refund =
        request("c1", "create_refund", "{\"customerId\":\"cus_1\",\"amount\":10}");

    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> guarded.executeWithContext(refund, conversation("t-3")))
          .isSameAs(boom);
    }
    assertThat(f.safeRun.counter("create_refund.refunds", saferun.context(conversation("t-3"))))
        .isZero();
  }

  @Test
  void argumentsThatAreNotAJsonObjectAreDeniedBeforeTheToolRuns() {
    ToolExecutionResult result = saferun.wrap(tool).executeWithContext(
        request("c1", "lookup_customer", "[\"cus_1\"]"), conversation("t-1"));

    assertThat(ran).isEmpty();
    assertThat(result.resultText())
        .isEqualTo("[SAFERUN POLICY DENIED] Tool arguments must be a JSON object");
  }

  @Test
  void wrappingTwiceGuardsOnce() {
    ToolExecutor once = saferun.wrap(tool);

    assertThat(saferun.wrap(once)).isSameAs(once);
  }
}
