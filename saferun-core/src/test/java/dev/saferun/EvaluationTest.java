package dev.saferun;

import static dev.saferun.Fixtures.call;
import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.Decision.Outcome;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SPEC §1, §2, §5–7: defaults, hide, actions, order, policy sets, shadow mode, messages. */
class EvaluationTest {
  private final ManualClock clock = new ManualClock();

  private static final String TIERS = String.join("\n",
      "version: \"1\"",
      "name: support",
      "hide: [delete_customer]",
      "approvals: {mode: defer}",
      "tools:",
      "  list_customers:",
      "    rules: []",
      "  create_refund:",
      "    rules:",
      "      - name: max single refund",
      "        conditions: [{path: args.amount, op: lte, value: 5000}]",
      "        on_deny: Single refund cannot exceed $50.00",
      "      - name: large refunds need a human",
      "        action: require_approval",
      "        conditions: [{path: args.amount, op: gt, value: 2000}]",
      "      - name: no refunds to test accounts",
      "        action: deny",
      "        conditions: [{path: args.customer, op: regex, value: \"^cus_test_\"}]",
      "  delete_customer:",
      "    rules: []",
      "  \"*\":",
      "    rules:",
      "      - name: prod only",
      "        conditions: [{path: context.environment, op: eq, value: prod}]",
      "");

  @Test
  void unlistedToolsAreDeniedByDefaultAndStarRulesDoNotRescueThem() {
    SafeRun s = Fixtures.safeRun(clock, TIERS);
    Decision d = call(s, "drop_database", "{}", CallContext.of("environment", "prod"));
    assertThat(d.outcome()).isEqualTo(Outcome.DENY);
    assertThat(d.message()).isEqualTo("Tool \"drop_database\" is not permitted by policy");
    assertThat(d.rule()).isNull();
    assertThat(d.policy()).isEqualTo("support");
    assertThat(d.toModelText())
        .isEqualTo("[SAFERUN POLICY DENIED] Tool \"drop_database\" is not permitted by policy");
  }

  @Test
  void defaultAllowLetsUnlistedToolsThroughStarRules() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ndefault: allow\ntools:\n  \"*\":\n"
        + "    rules:\n      - name: prod only\n"
        + "        conditions: [{path: context.environment, op: eq, value: prod}]\n");
    assertThat(call(s, "anything", "{}", CallContext.of("environment", "prod")).isAllowed())
        .isTrue();
    assertThat(call(s, "anything", "{}", CallContext.of("environment", "dev")).rule())
        .isEqualTo("prod only");
  }

  @Test
  void hiddenToolsAreDeniedAndRemovedFromView() {
    SafeRun s = Fixtures.safeRun(clock, TIERS);
    CallContext prod = CallContext.of("environment", "prod");
    assertThat(call(s, "delete_customer", "{}", prod).message())
        .isEqualTo("Tool \"delete_customer\" is hidden by policy");
    assertThat(s.visibleTools(List.of("list_customers", "delete_customer", "create_refund",
        "drop_database"), prod))
        .containsExactly("list_customers", "create_refund", "drop_database");
  }

  @Test
  void hideUnlistedAndHideAll() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\nhide_unlisted: true\ntools:\n"
        + "  a:\n    rules: []\n");
    assertThat(s.visibleTools(List.of("a", "b"), CallContext.empty())).containsExactly("a");
    assertThat(call(s, "b", "{}").message()).isEqualTo("Tool \"b\" is hidden by policy");
    SafeRun all = Fixtures.safeRun(clock, "version: \"1\"\nhide: [\"*\"]\ntools:\n"
        + "  a:\n    rules: []\n");
    assertThat(all.visibleTools(List.of("a", "b"), CallContext.empty())).isEmpty();
    assertThat(call(all, "a", "{}").message()).isEqualTo("Tool \"a\" is hidden by policy");
  }

  @Test
  void theFirstDecisiveRuleWinsInFileOrderToolRulesBeforeStarRules() {
    SafeRun s = Fixtures.safeRun(clock, TIERS);
    CallContext prod = CallContext.of("environment", "prod");
    CallContext dev = CallContext.of("environment", "dev");
    assertThat(call(s, "create_refund", "{\"amount\":6000}", dev).rule())
        .isEqualTo("max single refund");
    Decision held = call(s, "create_refund", "{\"amount\":3000,\"customer\":\"cus_test_1\"}",
        prod);
    assertThat(held.outcome()).isEqualTo(Outcome.HOLD);
    assertThat(held.message()).isEqualTo("Approval required by rule \"large refunds need a human\"");
    Decision denied = call(s, "create_refund", "{\"amount\":100,\"customer\":\"cus_test_1\"}",
        prod);
    assertThat(denied.rule()).isEqualTo("no refunds to test accounts");
    assertThat(denied.message()).isEqualTo("Denied by rule \"no refunds to test accounts\"");
    assertThat(call(s, "create_refund", "{\"amount\":100}", dev).rule()).isEqualTo("prod only");
    assertThat(call(s, "create_refund", "{\"amount\":100}", prod).isAllowed()).isTrue();
  }

  @Test
  void traceExplainsEachRule() {
    SafeRun s = Fixtures.safeRun(clock, TIERS);
    Decision d = call(s, "create_refund", "{\"amount\":6000}", CallContext.of("environment", "prod"));
    assertThat(d.trace()).singleElement().satisfies(t -> {
      assertThat(t.rule()).isEqualTo("max single refund");
      assertThat(t.result()).isEqualTo(Decision.RuleResult.DENIED);
      assertThat(t.detail()).isEqualTo("args.amount = 6000 is not lte 5000");
    });
  }

  @Test
  void aHoldCreatesAnApprovalRequestAndCallsOnPause() {
    List<ApprovalRequest> paused = new ArrayList<>();
    SafeRun s = SafeRun.builder().policies(Fixtures.policy(
            "version: \"1\"\nredact: [args.card]\ntools:\n  refund:\n    rules:\n"
                + "      - name: human\n        action: require_approval\n"
                + "        approval_timeout: 30m\n        on_deny: A human must approve\n"))
        .clock(clock).auditSink(AuditSink.NONE).onPause(paused::add).build();
    Decision d = s.evaluate(ToolCall.of("refund", "{\"card\":\"4242424242424242\",\"amount\":9}",
        CallContext.of("user", "u1")));
    assertThat(d.isHeld()).isTrue();
    ApprovalRequest r = d.approval();
    assertThat(paused).containsExactly(r);
    assertThat(r.id()).matches("apr_[0-9a-f]{32}");
    assertThat(r.tool()).isEqualTo("refund");
    assertThat(r.rule()).isEqualTo("human");
    assertThat(r.arguments()).isEqualTo("{\"amount\":9,\"card\":\"4242424242424242\"}");
    assertThat(r.redactedArguments()).isEqualTo("{\"amount\":9,\"card\":\"***\"}");
    assertThat(r.toString()).doesNotContain("4242424242424242");
    assertThat(r.argumentsHash()).hasSize(64);
    assertThat(r.expiresAt()).isEqualTo(r.createdAt().plus(Duration.ofMinutes(30)));
    assertThat(r.context().get("user")).isEqualTo("u1");
    assertThat(d.toModelText())
        .isEqualTo("[SAFERUN APPROVAL REQUIRED] A human must approve (approval " + r.id() + ")");
    Decision again = s.evaluate(ToolCall.of("refund", "{\"amount\":9}"));
    assertThat(again.approval().id()).isNotEqualTo(r.id());
  }

  @Test
  void theAuditedArgumentsHashIsTheSha256OfTheUnredactedCanonicalArguments() throws Exception {
    String plain = "version: \"1\"\ntools:\n  refund: {rules: []}\n";
    String redacting = "version: \"1\"\nredact: [args.card]\ntools:\n  refund: {rules: []}\n";
    String expected = java.util.HexFormat.of().formatHex(java.security.MessageDigest
        .getInstance("SHA-256").digest("{\"amount\":9,\"card\":\"4242\"}"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    for (String policy : List.of(plain, redacting)) {
      List<dev.saferun.audit.AuditEvent> events = new ArrayList<>();
      SafeRun s = SafeRun.builder().policies(Fixtures.policy(policy)).clock(clock)
          .auditSink(events::add).build();
      assertThat(s.evaluate(ToolCall.of("refund", "{\"card\":\"4242\", \"amount\":9}"))
          .isAllowed()).isTrue();
      assertThat(events).singleElement().satisfies(e -> {
        assertThat(e.argumentsHash()).isEqualTo(expected);
        assertThat(e.arguments()).isEqualTo(!policy.contains("redact")
            ? "{\"amount\":9,\"card\":\"4242\"}" : "{\"amount\":9,\"card\":\"***\"}");
      });
    }
  }

  @Test
  void aHeldCallChargesNothing() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: count\n        rate_limit: 5/day\n"
        + "      - name: human\n        action: require_approval\n");
    assertThat(call(s, "t", "{}").isHeld()).isTrue();
    assertThat(s.counter("t._rate_day", CallContext.empty())).isEqualByComparingTo("0");
  }

  @Test
  void policySetsMatchOnContextAndFailClosedWhenNoneApplies() {
    String prod = "version: \"1\"\nname: prod\nmatch: {environment: prod}\ntools:\n"
        + "  refund:\n    rules:\n      - name: human\n        action: require_approval\n";
    String support = "version: \"1\"\nname: support\nmatch: {agent: [support, triage]}\ntools:\n"
        + "  refund:\n    rules:\n      - name: small\n"
        + "        conditions: [{path: args.amount, op: lte, value: 100}]\n"
        + "        on_deny: too big\n";
    SafeRun s = Fixtures.safeRun(clock, prod, support);
    assertThat(call(s, "refund", "{\"amount\":1}", CallContext.of("agent", "sales")).message())
        .isEqualTo("No policy applies to this call");
    assertThat(call(s, "refund", "{\"amount\":1}", CallContext.of("agent", "triage")).isAllowed())
        .isTrue();
    CallContext both = CallContext.of("agent", "support", "environment", "prod");
    assertThat(call(s, "refund", "{\"amount\":1}", both).outcome()).isEqualTo(Outcome.HOLD);
    Decision deny = call(s, "refund", "{\"amount\":500}", both);
    assertThat(deny.outcome()).isEqualTo(Outcome.DENY); // any deny beats a hold
    assertThat(deny.policy()).isEqualTo("support");
    assertThat(deny.message()).isEqualTo("too big");
  }

  @Test
  void theFirstDenyingPolicyInOrderGivesTheMessage() {
    String a = "version: \"1\"\nname: a\ntools:\n  t:\n    rules:\n"
        + "      - name: ra\n        action: deny\n        on_deny: from a\n";
    String b = "version: \"1\"\nname: b\ntools:\n  t:\n    rules:\n"
        + "      - name: rb\n        action: deny\n        on_deny: from b\n";
    assertThat(call(Fixtures.safeRun(clock, b, a), "t", "{}").message()).isEqualTo("from b");
    assertThat(call(Fixtures.safeRun(clock, a, b), "t", "{}").message()).isEqualTo("from a");
  }

  @Test
  void aDenyingPolicyMeansNoCounterOfAnyPolicyIsCharged() {
    String a = "version: \"1\"\nname: a\ntools:\n  t:\n    rules:\n"
        + "      - name: count\n        rate_limit: 10/day\n";
    String b = "version: \"1\"\nname: b\ntools:\n  t:\n    rules:\n"
        + "      - name: never\n        action: deny\n";
    SafeRun s = Fixtures.safeRun(clock, a, b);
    assertThat(call(s, "t", "{}").isDenied()).isTrue();
    assertThat(s.counter("t._rate_day", CallContext.empty())).isEqualByComparingTo("0");
  }

  @Test
  void shadowPolicyReportsWithoutBlocking() {
    String enforce = "version: \"1\"\nname: base\ndefault: allow\ntools: {}\n";
    String shadow = "version: \"1\"\nname: candidate\nmode: shadow\ntools:\n  send_email:\n"
        + "    rules:\n      - name: internal only\n"
        + "        conditions: [{path: args.to, op: regex, value: \"@example\\\\.com$\"}]\n";
    SafeRun s = Fixtures.safeRun(clock, enforce, shadow);
    Decision d = call(s, "send_email", "{\"to\":\"x@evil.test\"}");
    assertThat(d.outcome()).isEqualTo(Outcome.ALLOW);
    assertThat(d.shadow().outcome()).isEqualTo(Outcome.DENY);
    assertThat(d.shadow().policy()).isEqualTo("candidate");
    assertThat(d.shadow().rule()).isEqualTo("internal only");
    Decision ok = call(s, "send_email", "{\"to\":\"bob@example.com\"}");
    assertThat(ok.shadow().outcome()).isEqualTo(Outcome.ALLOW);
    // the shadow policy's default deny is advisory too
    assertThat(call(s, "other", "{}").shadow().message())
        .isEqualTo("Tool \"other\" is not permitted by policy");
  }

  @Test
  void aSetOfOnlyShadowPoliciesAllows() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\nmode: shadow\ntools: {}\n");
    Decision d = call(s, "anything", "{}");
    assertThat(d.isAllowed()).isTrue();
    assertThat(d.shadow().outcome()).isEqualTo(Outcome.DENY);
  }

  @Test
  void shadowRuleInsideAnEnforcingPolicy() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: new limit\n        mode: shadow\n"
        + "        conditions: [{path: args.n, op: lte, value: 5}]\n"
        + "      - name: old limit\n        conditions: [{path: args.n, op: lte, value: 10}]\n");
    Decision d = call(s, "t", "{\"n\":7}");
    assertThat(d.isAllowed()).isTrue();
    assertThat(d.shadow()).isEqualTo(new Decision.ShadowVerdict(Outcome.DENY, "p0", "new limit",
        "Denied by rule \"new limit\""));
    Decision both = call(s, "t", "{\"n\":11}");
    assertThat(both.rule()).isEqualTo("old limit");
    assertThat(both.shadow().rule()).isEqualTo("new limit");
    assertThat(call(s, "t", "{\"n\":1}").shadow().outcome()).isEqualTo(Outcome.ALLOW);
  }

  @Test
  void noShadowVerdictWhenNothingIsInShadow() {
    SafeRun s = Fixtures.safeRun(clock, TIERS);
    assertThat(call(s, "list_customers", "{}", CallContext.of("environment", "prod")).shadow())
        .isNull();
  }

  @Test
  void wrapRunsOnlyAllowedCalls() throws Exception {
    List<String> ran = new ArrayList<>();
    ToolExecutor tool = c -> {
      ran.add(c.arguments());
      return "refunded";
    };
    ToolExecutor guarded = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(TIERS)))
        .clock(clock).auditSink(AuditSink.NONE).build().wrap(tool);
    CallContext prod = CallContext.of("environment", "prod");
    assertThat(guarded.execute(ToolCall.of("create_refund", "{\"amount\":100}", prod)))
        .isEqualTo("refunded");
    assertThat(guarded.execute(ToolCall.of("create_refund", "{\"amount\":6000}", prod)))
        .isEqualTo("[SAFERUN POLICY DENIED] Single refund cannot exceed $50.00");
    assertThat(guarded.execute(ToolCall.of("create_refund", "{\"amount\":3000}", prod)))
        .startsWith("[SAFERUN APPROVAL REQUIRED] Approval required by rule"
            + " \"large refunds need a human\" (approval apr_");
    assertThat(ran).containsExactly("{\"amount\":100}");
  }

  @Test
  void staticWrapUsesDefaults() throws Exception {
    ToolExecutor guarded = SafeRun.wrap(c -> "ok", PolicySet.of(Fixtures.policy(
        "version: \"1\"\ntools:\n  a:\n    rules: []\n")), r -> { });
    assertThat(guarded.execute(ToolCall.of("a", null))).isEqualTo("ok");
    assertThat(guarded.execute(ToolCall.of("b", "{}")))
        .isEqualTo("[SAFERUN POLICY DENIED] Tool \"b\" is not permitted by policy");
  }
}
