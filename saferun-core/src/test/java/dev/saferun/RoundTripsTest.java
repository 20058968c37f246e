package dev.saferun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeReceipt;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStore;
import java.math.BigDecimal;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * One store call per allowed decision (one network round trip with a remote store), and the
 * first decisive rule still the one SPEC §6 names when a later rule denies or holds.
 */
class RoundTripsTest {
  private static final String POLICY = "version: \"1\"\napprovals: {mode: defer}\ntools:\n"
      + "  refund:\n    rules:\n"
      + "      - name: count\n        rate_limit: 2/day\n"
      + "      - name: total\n"
      + "        conditions: [{path: state.refund.total, op: lte, value: 1000}]\n"
      + "        state: {counter: total, window: day, increment_from: args.amount}\n"
      + "      - name: big needs a human\n        action: require_approval\n"
      + "        conditions: [{path: args.amount, op: gt, value: 500}]\n"
      + "  \"*\":\n    rules:\n      - name: global\n        rate_limit: 100/minute\n";

  /** Counts calls into an in-memory store. */
  static final class CountingStore implements StateStore {
    final StateStore delegate;
    final AtomicInteger calls = new AtomicInteger();

    CountingStore(Clock clock) {
      this.delegate = StateStore.inMemory(clock);
    }

    @Override
    public ChargeResult charge(List<Charge> charges, long nowMillis) {
      calls.incrementAndGet();
      return delegate.charge(charges, nowMillis);
    }

    @Override
    public void refund(ChargeReceipt receipt) {
      calls.incrementAndGet();
      delegate.refund(receipt);
    }

    @Override
    public BigDecimal read(CounterKey key, long nowMillis) {
      calls.incrementAndGet();
      return delegate.read(key, nowMillis);
    }

    @Override
    public long recordAttempt(CounterKey key, long nowMillis) {
      calls.incrementAndGet();
      return delegate.recordAttempt(key, nowMillis);
    }
  }

  @Test
  void anAllowedDecisionWithThreeLimitedCountersIsOneStoreCall() {
    ManualClock clock = new ManualClock();
    CountingStore store = new CountingStore(clock);
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(POLICY))).clock(clock)
        .stateStore(store).auditSink(AuditSink.NONE).build();
    assertThat(s.evaluate(ToolCall.of("refund", "{\"amount\":100}")).isAllowed()).isTrue();
    assertThat(store.calls).hasValue(1);
    store.calls.set(0);
    assertThat(s.evaluate(ToolCall.of("refund", "{\"amount\":500}")).isAllowed()).isTrue();
    assertThat(store.calls).hasValue(1);
    store.calls.set(0);
    Decision refused = s.evaluate(ToolCall.of("refund", "{\"amount\":450}")); // a 3rd refund
    assertThat(refused.rule()).isEqualTo("count");
    assertThat(refused.message()).isEqualTo("Rate limit of 2 per day reached. Try again later.");
    assertThat(store.calls).hasValue(1);
  }

  @Test
  void aCounterAboveALaterHoldStillDecidesFirst() {
    ManualClock clock = new ManualClock();
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(POLICY))).clock(clock)
        .auditSink(AuditSink.NONE).build();
    s.evaluate(ToolCall.of("refund", "{\"amount\":1}"));
    s.evaluate(ToolCall.of("refund", "{\"amount\":2}"));
    // "count" is exhausted; the later approval rule would hold this call, but the earlier limit
    // decides: a deny, not a hold
    Decision d = s.evaluate(ToolCall.of("refund", "{\"amount\":600}"));
    assertThat(d.isDenied()).isTrue();
    assertThat(d.rule()).isEqualTo("count");
    assertThat(d.message()).isEqualTo("Rate limit of 2 per day reached. Try again later.");
  }

  @Test
  void aCounterInAnEarlierPolicyBeatsALaterPolicysHoldAndDeny() {
    ManualClock clock = new ManualClock();
    String a = "version: \"1\"\nname: a\ntools:\n  t:\n    rules:\n"
        + "      - name: a cap\n        rate_limit: 1/day\n";
    String hold = "version: \"1\"\nname: b\napprovals: {mode: defer}\ntools:\n  t:\n    rules:\n"
        + "      - name: b human\n        action: require_approval\n"
        + "        conditions: [{path: args.x, op: eq, value: 1}]\n"
        + "      - name: b deny\n        action: deny\n"
        + "        conditions: [{path: args.x, op: eq, value: 2}]\n";
    SafeRun s = Fixtures.safeRun(clock, a, hold);
    assertThat(s.evaluate(ToolCall.of("t", "{\"x\":0}")).isAllowed()).isTrue();
    assertThat(s.evaluate(ToolCall.of("t", "{\"x\":1}")).rule()).isEqualTo("a cap");
    assertThat(s.evaluate(ToolCall.of("t", "{\"x\":2}")).rule()).isEqualTo("a cap");
  }
}
