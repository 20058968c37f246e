package dev.saferun;

import static dev.saferun.Fixtures.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import java.math.BigDecimal;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** SPEC §4: counters, windows, projected limits, shorthands, charging and refunds. */
class CountersTest {
  private final ManualClock clock = new ManualClock("2026-01-15T23:58:00Z");

  private static String counterPolicy(String window, String op, String limit, String extraState) {
    return "version: \"1\"\ntools:\n  t:\n    rules:\n      - name: cap\n"
        + "        conditions: [{path: state.t.n, op: " + op + ", value: " + limit + "}]\n"
        + "        state: {counter: n, window: " + window + extraState + "}\n";
  }

  private static int allowedOf(SafeRun s, int calls, String args) {
    int allowed = 0;
    for (int i = 0; i < calls; i++) {
      if (call(s, "t", args).isAllowed()) {
        allowed++;
      }
    }
    return allowed;
  }

  @Test
  void lteTenAllowsTenAndLtTenAllowsNine() {
    assertThat(allowedOf(Fixtures.safeRun(clock, counterPolicy("day", "lte", "10", "")), 15, "{}"))
        .isEqualTo(10);
    assertThat(allowedOf(Fixtures.safeRun(clock, counterPolicy("day", "lt", "10", "")), 15, "{}"))
        .isEqualTo(9);
  }

  @Test
  void limitDenialNamesTheRuleAndWhenToRetry() {
    SafeRun s = Fixtures.safeRun(clock, counterPolicy("day", "lte", "1", ""));
    assertThat(call(s, "t", "{}").isAllowed()).isTrue();
    Decision d = call(s, "t", "{}");
    assertThat(d.isDenied()).isTrue();
    assertThat(d.rule()).isEqualTo("cap");
    assertThat(d.message()).isEqualTo("Limit of rule \"cap\" reached");
    assertThat(d.retryAfter()).isEqualTo(Duration.ofMinutes(2)); // 23:58 -> midnight UTC
  }

  @Test
  void incrementFromChargesTheAmountExactly() {
    SafeRun s = Fixtures.safeRun(clock,
        counterPolicy("day", "lte", "1000", ", increment_from: args.amount"));
    assertThat(call(s, "t", "{\"amount\":600}").isAllowed()).isTrue();
    assertThat(call(s, "t", "{\"amount\":400}").isAllowed()).isTrue();
    assertThat(call(s, "t", "{\"amount\":1}").isDenied()).isTrue();
    assertThat(call(s, "t", "{\"amount\":0}").isAllowed()).isTrue();
    assertThat(s.counter("t.n", CallContext.empty())).isEqualByComparingTo("1000");
  }

  @Test
  void amountsAreExactDecimals() {
    SafeRun s = Fixtures.safeRun(clock,
        counterPolicy("day", "lte", "0.3", ", increment_from: args.amount"));
    assertThat(call(s, "t", "{\"amount\":0.1}").isAllowed()).isTrue();
    assertThat(call(s, "t", "{\"amount\":0.2}").isAllowed()).isTrue();
    assertThat(call(s, "t", "{\"amount\":0.0000001}").isDenied()).isTrue();
    assertThat(s.counter("t.n", CallContext.empty())).isEqualTo(new BigDecimal("0.3"));
  }

  @Test
  void badIncrementsDenyWithTheRuleAndPathAndNeverDecrement() {
    SafeRun s = Fixtures.safeRun(clock,
        counterPolicy("day", "lte", "1000", ", increment_from: args.amount"));
    call(s, "t", "{\"amount\":500}");
    for (String args : new String[] {"{\"amount\":-100}", "{\"amount\":\"100\"}", "{}",
        "{\"amount\":null}", "{\"amount\":[1]}"}) {
      Decision d = call(s, "t", args);
      assertThat(d.isDenied()).as(args).isTrue();
      assertThat(d.message()).isEqualTo("Rule \"cap\": args.amount must be a non-negative number");
    }
    assertThat(s.counter("t.n", CallContext.empty())).isEqualByComparingTo("500");
  }

  @Test
  void fixedWindowsResetAtUtcBoundaries() {
    SafeRun s = Fixtures.safeRun(clock, counterPolicy("day", "lte", "2", ""));
    assertThat(allowedOf(s, 3, "{}")).isEqualTo(2);
    clock.set("2026-01-15T23:59:59.999Z");
    assertThat(call(s, "t", "{}").isDenied()).isTrue();
    clock.set("2026-01-16T00:00:00Z");
    assertThat(allowedOf(s, 3, "{}")).isEqualTo(2);

    SafeRun m = Fixtures.safeRun(clock, counterPolicy("minute", "lte", "1", ""));
    clock.set("2026-01-16T10:00:59Z");
    assertThat(allowedOf(m, 2, "{}")).isEqualTo(1);
    clock.set("2026-01-16T10:01:00Z");
    assertThat(allowedOf(m, 2, "{}")).isEqualTo(1);

    SafeRun h = Fixtures.safeRun(clock, counterPolicy("hour", "lte", "1", ""));
    clock.set("2026-01-16T10:59:00Z");
    assertThat(allowedOf(h, 2, "{}")).isEqualTo(1);
    clock.set("2026-01-16T11:00:00Z");
    assertThat(allowedOf(h, 2, "{}")).isEqualTo(1);
  }

  @Test
  void rollingWindowNeverAllowsMoreThanTheLimitInAnyIntervalOfItsLength() {
    SafeRun s = Fixtures.safeRun(clock, counterPolicy("1h", "lte", "3", ""));
    clock.set("2026-01-16T10:00:00Z");
    assertThat(allowedOf(s, 2, "{}")).isEqualTo(2);
    clock.set("2026-01-16T10:59:00Z");
    assertThat(allowedOf(s, 2, "{}")).isEqualTo(1); // 3 in the last hour
    clock.set("2026-01-16T11:00:30Z");
    // the two 10:00 calls may still count for one bucket (1 minute): early, never late
    assertThat(call(s, "t", "{}").isDenied()).isTrue();
    clock.set("2026-01-16T11:01:00Z");
    assertThat(allowedOf(s, 3, "{}")).isEqualTo(2);
    clock.set("2026-01-16T12:00:01Z");
    assertThat(allowedOf(s, 5, "{}")).isEqualTo(1);
  }

  @Test
  void rollingWindowHasNoBoundaryBurst() {
    // A fixed hour would allow 3 at 10:59 and 3 more at 11:00; a rolling 1h must not.
    SafeRun s = Fixtures.safeRun(clock, counterPolicy("1h", "lte", "3", ""));
    clock.set("2026-01-16T10:59:00Z");
    assertThat(allowedOf(s, 3, "{}")).isEqualTo(3);
    clock.set("2026-01-16T11:00:00Z");
    assertThat(allowedOf(s, 3, "{}")).isZero();
  }

  @Test
  void perKeysSplitCountersAndMissingAttributesShareOne() {
    SafeRun s = Fixtures.safeRun(clock, counterPolicy("day", "lte", "1", ", per: [user]"));
    assertThat(call(s, "t", "{}", CallContext.of("user", "a")).isAllowed()).isTrue();
    assertThat(call(s, "t", "{}", CallContext.of("user", "a")).isDenied()).isTrue();
    assertThat(call(s, "t", "{}", CallContext.of("user", "b")).isAllowed()).isTrue();
    assertThat(call(s, "t", "{}").isAllowed()).isTrue();
    assertThat(call(s, "t", "{}", CallContext.of("other", "x")).isDenied()).isTrue();
    assertThat(s.counter("t.n", CallContext.of("user", "a"))).isEqualByComparingTo("1");
    // values that look like separators do not collide
    assertThat(call(s, "t", "{}", CallContext.of("user", "a&user=b")).isAllowed()).isTrue();
  }

  @Test
  void rateLimitShorthand() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: burst\n        rate_limit: 3/minute\n");
    clock.set("2026-01-16T10:00:10Z");
    assertThat(allowedOf(s, 3, "{}")).isEqualTo(3);
    Decision d = call(s, "t", "{}");
    assertThat(d.message()).isEqualTo("Rate limit of 3 per minute reached. Try again later.");
    assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(50));
    assertThat(s.counter("t._rate_minute", CallContext.empty())).isEqualByComparingTo("3");
  }

  @Test
  void rateLimitMappingFormWithPerAndRollingWindow() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: burst\n        rate_limit: {limit: 2/30s, per: [user]}\n");
    CallContext a = CallContext.of("user", "a");
    assertThat(call(s, "t", "{}", a).isAllowed()).isTrue();
    assertThat(call(s, "t", "{}", a).isAllowed()).isTrue();
    assertThat(call(s, "t", "{}", a).message()).isEqualTo(
        "Rate limit of 2 per 30s reached. Try again later.");
    assertThat(call(s, "t", "{}", CallContext.of("user", "b")).isAllowed()).isTrue();
    clock.advance(Duration.ofSeconds(31));
    assertThat(call(s, "t", "{}", a).isAllowed()).isTrue();
  }

  @Test
  void spendWithAmountFrom() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n  charge:\n    rules:\n"
        + "      - name: budget\n        spend: {per_call: 50, daily: 100, amount_from: args.usd}\n");
    Decision big = call(s, "charge", "{\"usd\":50.01}");
    assertThat(big.message()).isEqualTo("Spend of 50.01 exceeds the per-call limit of 50");
    assertThat(call(s, "charge", "{\"usd\":50}").isAllowed()).isTrue();
    assertThat(call(s, "charge", "{\"usd\":49.99}").isAllowed()).isTrue();
    assertThat(call(s, "charge", "{\"usd\":0.02}").message())
        .isEqualTo("Daily spend limit of 100 reached");
    assertThat(call(s, "charge", "{\"usd\":0.01}").isAllowed()).isTrue();
  }

  @Test
  void spendWithRegisteredPrices() {
    String yaml = "version: \"1\"\ntools:\n  generate_image:\n    rules:\n"
        + "      - name: budget\n        spend: {daily: 0.10}\n";
    SafeRun s = SafeRun.builder().policies(PolicySet.of(PolicyLoader.loadString(yaml, "s.yaml")))
        .price("generate_image", new BigDecimal("0.04")).clock(clock)
        .auditSink(AuditSink.NONE).build();
    assertThat(allowedOf2(s, "generate_image", 5)).isEqualTo(2);
    assertThatThrownBy(() -> SafeRun.builder()
        .policies(PolicySet.of(PolicyLoader.loadString(yaml, "s.yaml"))).build())
        .isInstanceOf(PolicyConfigException.class)
        .hasMessageContaining("s.yaml:5:")
        .hasMessageContaining("no price is registered for tool 'generate_image'");
  }

  private static int allowedOf2(SafeRun s, String tool, int n) {
    int allowed = 0;
    for (int i = 0; i < n; i++) {
      allowed += call(s, tool, "{}").isAllowed() ? 1 : 0;
    }
    return allowed;
  }

  @Test
  void loopBreakerCountsIdenticalAttemptsWhateverTheirDecision() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n  refund:\n    rules:\n"
        + "      - name: small\n        conditions: [{path: args.amount, op: lte, value: 100}]\n"
        + "      - name: no loops\n        loop: {max_repeats: 2, window: 1m}\n");
    CallContext run1 = CallContext.of("run", "r1");
    assertThat(call(s, "refund", "{\"amount\":10,\"to\":\"a\"}", run1).isAllowed()).isTrue();
    // identical in canonical form: key order and 10 vs 10.0 do not matter
    assertThat(call(s, "refund", "{\"to\":\"a\",\"amount\":10.0}", run1).isAllowed()).isTrue();
    Decision third = call(s, "refund", "{\"amount\":10,\"to\":\"a\"}", run1);
    assertThat(third.isDenied()).isTrue();
    assertThat(third.message()).isEqualTo(
        "Loop detected: refund called with identical arguments 3 times within 1m");
    assertThat(call(s, "refund", "{\"amount\":11,\"to\":\"a\"}", run1).isAllowed()).isTrue();
    assertThat(call(s, "refund", "{\"amount\":10,\"to\":\"a\"}", CallContext.of("run", "r2"))
        .isAllowed()).isTrue();
    // a retry storm against a denied call trips the loop breaker too
    for (int i = 0; i < 2; i++) {
      assertThat(call(s, "refund", "{\"amount\":500}", run1).rule()).isEqualTo("small");
    }
    assertThat(call(s, "refund", "{\"amount\":500}", run1).rule()).isEqualTo("small");
    clock.advance(Duration.ofSeconds(62));
    assertThat(call(s, "refund", "{\"amount\":10,\"to\":\"a\"}", run1).isAllowed()).isTrue();
  }

  @Test
  void loopBreakerTripsARetryStormOfDeniedCalls() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n  refund:\n    rules:\n"
        + "      - name: no loops\n        loop: {max_repeats: 3, window: 10m}\n"
        + "      - name: small\n        conditions: [{path: args.amount, op: lte, value: 100}]\n");
    for (int i = 0; i < 3; i++) {
      assertThat(call(s, "refund", "{\"amount\":500}").rule()).isEqualTo("small");
    }
    assertThat(call(s, "refund", "{\"amount\":500}").rule()).isEqualTo("no loops");
  }

  @Test
  void chargingIsAllOrNothingAcrossToolAndStarCounters() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n"
        + "  a:\n    rules:\n      - name: a cap\n        rate_limit: 100/day\n"
        + "  b:\n    rules: []\n"
        + "  \"*\":\n    rules:\n      - name: global\n        rate_limit: 2/day\n");
    assertThat(call(s, "b", "{}").isAllowed()).isTrue();
    assertThat(call(s, "b", "{}").isAllowed()).isTrue();
    Decision d = call(s, "a", "{}");
    assertThat(d.rule()).isEqualTo("global");
    assertThat(s.counter("a._rate_day", CallContext.empty())).isEqualByComparingTo("0");
    assertThat(s.counter("_global._rate_day", CallContext.empty())).isEqualByComparingTo("2");
  }

  @Test
  void aConditionOnAnotherCounterReadsWithoutCharging() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n"
        + "  refund:\n    rules:\n      - name: count\n"
        + "        conditions: [{path: state.refund.n, op: lte, value: 5}]\n"
        + "        state: {counter: n, window: day}\n"
        + "  big_refund:\n    rules:\n      - name: only early in the day\n"
        + "        conditions: [{path: state.refund.n, op: lt, value: 2}]\n");
    assertThat(call(s, "big_refund", "{}").isAllowed()).isTrue();
    assertThat(call(s, "big_refund", "{}").isAllowed()).isTrue();
    assertThat(s.counter("refund.n", CallContext.empty())).isEqualByComparingTo("0");
    call(s, "refund", "{}");
    call(s, "refund", "{}");
    assertThat(call(s, "big_refund", "{}").isDenied()).isTrue();
  }

  @Test
  void aFailedToolIsRefunded() throws Exception {
    SafeRun s = Fixtures.safeRun(clock, counterPolicy("day", "lte", "1", ""));
    ToolExecutor failing = c -> {
      throw new IllegalStateException("payment provider down");
    };
    assertThatThrownBy(() -> s.execute(ToolCall.of("t", "{}"), failing))
        .hasMessage("payment provider down");
    assertThat(s.counter("t.n", CallContext.empty())).isEqualByComparingTo("0");
    assertThat(s.execute(ToolCall.of("t", "{}"), c -> "ok")).isEqualTo("ok");
    assertThat(s.execute(ToolCall.of("t", "{}"), c -> "ok"))
        .isEqualTo("[SAFERUN POLICY DENIED] Limit of rule \"cap\" reached");
  }

  @Test
  void countersSurviveAReloadWhenTheirIdentityIsUnchanged() {
    SafeRun s = Fixtures.safeRun(clock, counterPolicy("day", "lte", "2", ""));
    call(s, "t", "{}");
    call(s, "t", "{}");
    s.reload(PolicySet.of(Fixtures.policy(counterPolicy("day", "lte", "3", ""))));
    assertThat(allowedOf(s, 3, "{}")).isEqualTo(1);
    s.reload(PolicySet.of(Fixtures.policy(counterPolicy("hour", "lte", "3", ""))));
    assertThat(allowedOf(s, 5, "{}")).isEqualTo(3); // a new window is a new counter
  }

  @Test
  void shadowCountersLiveApartAndNeverBlock() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: would cap\n        mode: shadow\n        rate_limit: 2/day\n");
    for (int i = 0; i < 2; i++) {
      Decision d = call(s, "t", "{}");
      assertThat(d.isAllowed()).isTrue();
      assertThat(d.shadow().outcome()).isEqualTo(Decision.Outcome.ALLOW);
    }
    Decision third = call(s, "t", "{}");
    assertThat(third.isAllowed()).isTrue();
    assertThat(third.shadow().outcome()).isEqualTo(Decision.Outcome.DENY);
    assertThat(third.shadow().rule()).isEqualTo("would cap");
    assertThat(third.shadow().message()).isEqualTo("Rate limit of 2 per day reached. Try again later.");
  }
}
