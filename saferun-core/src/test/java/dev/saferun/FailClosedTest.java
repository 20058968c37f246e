package dev.saferun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeReceipt;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStore;
import dev.saferun.spi.StateStoreException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Non-negotiable 2: any failure inside SafeRun denies the call and says what failed. */
class FailClosedTest {
  private static final String COUNTED = "version: \"1\"\ntools:\n  t:\n    rules:\n"
      + "      - name: count\n        rate_limit: 5/minute\n";
  private final ManualClock clock = new ManualClock();

  /** A store whose every operation fails, like Redis being down. */
  private static final class BrokenStore implements StateStore {
    final RuntimeException failure;

    BrokenStore(RuntimeException failure) {
      this.failure = failure;
    }

    @Override
    public ChargeResult charge(List<Charge> charges, long nowMillis) {
      throw failure;
    }

    @Override
    public void refund(ChargeReceipt receipt) {
      throw failure;
    }

    @Override
    public BigDecimal read(CounterKey key, long nowMillis) {
      throw failure;
    }

    @Override
    public long recordAttempt(CounterKey key, long nowMillis) {
      throw failure;
    }
  }

  private SafeRun with(StateStore store, AuditSink sink, AuditSink.FailurePolicy policy) {
    return SafeRun.builder().policies(PolicySet.of(Fixtures.policy(COUNTED))).clock(clock)
        .stateStore(store).auditSink(sink).auditFailure(policy).build();
  }

  @Test
  void anUnavailableStateStoreDenies() throws Exception {
    SafeRun s = with(new BrokenStore(new StateStoreException("connection refused", null)),
        AuditSink.NONE, AuditSink.FailurePolicy.FAIL_CLOSED);
    AtomicInteger runs = new AtomicInteger();
    assertThat(s.execute(ToolCall.of("t", "{}"), c -> "ran " + runs.incrementAndGet()))
        .isEqualTo("[SAFERUN POLICY DENIED] State store unavailable: connection refused");
    assertThat(runs).hasValue(0);
  }

  @Test
  void failOpenIsExplicitAndOnlyForNonFinancialCounters() throws Exception {
    String yaml = "version: \"1\"\ntools:\n"
        + "  search:\n    rules:\n      - name: burst\n        rate_limit: 5/minute\n"
        + "      - name: no loops\n        loop: {max_repeats: 3, window: 1m}\n"
        + "      - name: short queries\n"
        + "        conditions: [{path: args.q, op: regex, value: \"^.{1,50}$\"}]\n"
        + "  refund:\n    rules:\n      - name: budget\n"
        + "        spend: {daily: 100, amount_from: args.amount}\n"
        + "  count_only_but_reads:\n    rules:\n      - name: reads\n"
        + "        conditions: [{path: state.search._rate_minute, op: lt, value: 3}]\n";
    List<AuditEvent> events = new ArrayList<>();
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(yaml))).clock(clock)
        .stateStore(new BrokenStore(new StateStoreException("timeout after 200 ms", null)))
        .stateFailure(SafeRun.StateFailure.FAIL_OPEN_NON_FINANCIAL)
        .auditSink(events::add).build();
    Decision search = s.evaluate(ToolCall.of("search", "{\"q\":\"shoes\"}"));
    assertThat(search.isAllowed()).isTrue();
    assertThat(search.message()).isEqualTo(SafeRun.FAIL_OPEN_MESSAGE + "timeout after 200 ms");
    assertThat(events.get(0).message()).startsWith("Allowed without counters");
    // the call's other rules still apply
    assertThat(s.evaluate(ToolCall.of("search", "{\"q\":\"" + "x".repeat(60) + "\"}")).rule())
        .isEqualTo("short queries");
    assertThat(s.evaluate(ToolCall.of("refund", "{\"amount\":1}")).message())
        .isEqualTo("State store unavailable: timeout after 200 ms");
    assertThat(s.evaluate(ToolCall.of("count_only_but_reads", "{}")).message())
        .isEqualTo("State store unavailable: timeout after 200 ms");
    // the default stays closed
    SafeRun closed = with(new BrokenStore(new StateStoreException("down", null)), AuditSink.NONE,
        AuditSink.FailurePolicy.FAIL_CLOSED);
    assertThat(closed.evaluate(ToolCall.of("t", "{}")).isDenied()).isTrue();
  }

  @Test
  void aBugInsideEvaluationDeniesAndNamesTheFailure() {
    SafeRun s = with(new BrokenStore(new IllegalStateException("boom")), AuditSink.NONE,
        AuditSink.FailurePolicy.FAIL_CLOSED);
    Decision d = s.evaluate(ToolCall.of("t", "{}"));
    assertThat(d.isDenied()).isTrue();
    assertThat(d.message()).isEqualTo(
        "Policy evaluation failed: java.lang.IllegalStateException: boom");
  }

  @Test
  void aFailingAuditSinkDeniesByDefaultAndRefunds() {
    StateStore store = StateStore.inMemory(clock);
    SafeRun s = with(store, e -> {
      throw new java.io.IOException("disk full");
    }, AuditSink.FailurePolicy.FAIL_CLOSED);
    Decision d = s.evaluate(ToolCall.of("t", "{}"));
    assertThat(d.isDenied()).isTrue();
    assertThat(d.message()).isEqualTo("Audit failed: java.io.IOException: disk full");
    assertThat(s.counter("t._rate_minute", CallContext.empty())).isEqualByComparingTo("0");
  }

  @Test
  void logAndContinueLetsTheDecisionStand() {
    SafeRun s = with(StateStore.inMemory(clock), e -> {
      throw new java.io.IOException("disk full");
    }, AuditSink.FailurePolicy.LOG_AND_CONTINUE);
    assertThat(s.evaluate(ToolCall.of("t", "{}")).isAllowed()).isTrue();
  }

  @Test
  void aThrowingOnPauseCallbackLeavesTheHoldStanding() throws Exception {
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(
            "version: \"1\"\napprovals: {mode: defer}\ntools:\n  t:\n    rules:\n"
                + "      - name: h\n        action: require_approval\n")))
        .clock(clock).auditSink(AuditSink.NONE).onPause(r -> {
          throw new IllegalStateException("pager down");
        }).build();
    AtomicInteger runs = new AtomicInteger();
    assertThat(s.execute(ToolCall.of("t", "{}"), c -> "ran " + runs.incrementAndGet()))
        .startsWith("[SAFERUN APPROVAL REQUIRED]");
    assertThat(runs).hasValue(0);
  }

  @Test
  void everyDecisionAndOutcomeIsAuditedWithRedactedArguments() throws Exception {
    List<AuditEvent> events = new ArrayList<>();
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(
            "version: \"1\"\nredact: [args.card]\ntools:\n  t:\n    rules: []\n")))
        .clock(clock).auditSink(events::add).build();
    s.execute(ToolCall.of("t", "{\"card\":\"4242\",\"n\":1}", CallContext.of("run", "r1")),
        c -> "ok");
    s.execute(ToolCall.of("u", "{\"card\":\"4242\"}"), c -> "ok");
    try {
      s.execute(ToolCall.of("t", "{}"), c -> {
        throw new IllegalStateException("tool broke");
      });
    } catch (IllegalStateException expected) {
      // the tool's own exception reaches the host; SafeRun's never do
    }
    assertThat(events).extracting(AuditEvent::type).containsExactly(
        AuditEvent.Type.ALLOWED, AuditEvent.Type.EXECUTED, AuditEvent.Type.DENIED,
        AuditEvent.Type.ALLOWED, AuditEvent.Type.FAILED);
    assertThat(events).extracting(AuditEvent::sequence).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(events.get(0).arguments()).isEqualTo("{\"card\":\"***\",\"n\":1}");
    assertThat(events.get(0).context().get("run")).isEqualTo("r1");
    assertThat(events.get(4).message()).contains("tool broke");
    assertThat(events).allSatisfy(e ->
        assertThat(String.valueOf(e.arguments())).doesNotContain("4242"));
  }
}
