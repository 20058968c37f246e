package dev.saferun;

import static dev.saferun.Fixtures.call;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Regression: a counter (or loop breaker) defined under the same key in two policies of one set
 * was charged once per policy, so one allowed call counted twice. A counter's key is
 * {@code <scope>.<counter>} (SPEC §4.1), so both policies read and limit one counter, and one
 * allowed call charges it once; a loop breaker counts one attempt per call (SPEC §4.5).
 * Found by saferun-test/src/test/policies/shared_counters.test.yaml.
 */
class CounterSharedAcrossPoliciesRegressionTest {
  private final ManualClock clock = new ManualClock("2026-01-15T10:00:00Z");

  private static String policy(String name, String limit) {
    return "version: \"1\"\nname: " + name + "\ntools:\n  refund:\n    rules:\n"
        + "      - name: daily cap\n"
        + "        conditions: [{path: state.refund.daily, op: lte, value: " + limit + "}]\n"
        + "        state: {counter: daily, window: day}\n"
        + "  search:\n    rules:\n      - name: no loops\n"
        + "        loop: {max_repeats: 2, window: 1m}\n";
  }

  @Test
  void oneAllowedCallChargesASharedCounterOnce() {
    SafeRun s = Fixtures.safeRun(clock, policy("a", "3"), policy("b", "3"));

    assertThat(call(s, "refund", "{}").isAllowed()).isTrue();
    assertThat(s.counter("refund.daily", CallContext.empty())).isEqualByComparingTo("1");
    assertThat(call(s, "refund", "{}").isAllowed()).isTrue();
    assertThat(call(s, "refund", "{}").isAllowed()).isTrue();
    Decision fourth = call(s, "refund", "{}");
    assertThat(fourth.isDenied()).isTrue();
    assertThat(fourth.message()).isEqualTo("Limit of rule \"daily cap\" reached");
    assertThat(s.counter("refund.daily", CallContext.empty())).isEqualByComparingTo("3");
  }

  @Test
  void theStricterLimitOfTwoPoliciesOnOneCounterApplies() {
    SafeRun s = Fixtures.safeRun(clock, policy("a", "5"), policy("b", "2"));

    assertThat(call(s, "refund", "{}").isAllowed()).isTrue();
    assertThat(call(s, "refund", "{}").isAllowed()).isTrue();
    Decision third = call(s, "refund", "{}");
    assertThat(third.isDenied()).isTrue();
    assertThat(third.policy()).isEqualTo("b");
    assertThat(s.counter("refund.daily", CallContext.empty())).isEqualByComparingTo("2");
  }

  @Test
  void oneCallIsOneAttemptForALoopBreakerDefinedInTwoPolicies() {
    SafeRun s = Fixtures.safeRun(clock, policy("a", "3"), policy("b", "3"));

    assertThat(call(s, "search", "{\"q\":\"x\"}").isAllowed()).isTrue();
    assertThat(call(s, "search", "{\"q\":\"x\"}").isAllowed()).isTrue();
    Decision third = call(s, "search", "{\"q\":\"x\"}");
    assertThat(third.isDenied()).isTrue();
    assertThat(third.message())
        .isEqualTo("Loop detected: search called with identical arguments 3 times within 1m");
  }
}
