package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
  @TempDir
  Path dir;

  String policy;
  String images;

  @BeforeEach
  void writePolicy() throws IOException {
    policy = Files.writeString(dir.resolve("refunds.yaml"), """
        version: "1"
        match: {agent: support}
        tools:
          create_refund:
            rules:
              - name: max single refund
                conditions: [{path: args.amount, op: lte, value: 5000}]
                on_deny: Single refund cannot exceed $50.00
              - name: big refunds need approval
                action: require_approval
                conditions: [{path: args.amount, op: gt, value: 2000}]
          send_email:
            rules:
              - name: no evil domains
                mode: shadow
                action: deny
                conditions: [{path: args.to, op: regex, value: "@evil\\\\.test$"}]
        """).toString();
    images = Files.writeString(dir.resolve("images.yaml"), """
        version: "1"
        tools:
          generate_image:
            rules:
              - name: image budget
                spend: {per_call: 0.05}
        """).toString();
  }

  CliRun eval(String tool, String args, String... more) {
    String[] base = {"eval", "--policy", policy, "--tool", tool, "--args", args,
        "--context", "agent=support", "--at", "2026-01-15T10:30:00Z"};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return CliRun.of(all);
  }

  @Test
  void anAllowedCallPrintsOneJsonObject() {
    CliRun r = eval("create_refund", "{\"amount\": 1000}");

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).containsExactly(
        "{\"decision\":\"allow\",\"policy\":\"refunds\",\"rule\":null,\"message\":\"Allowed\"}");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void aDeniedCallNamesTheRuleAndMessage() {
    CliRun r = eval("create_refund", "{\"amount\": 6000}");

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).containsExactly("{\"decision\":\"deny\",\"policy\":\"refunds\","
        + "\"rule\":\"max single refund\",\"message\":\"Single refund cannot exceed $50.00\"}");
  }

  @Test
  void aHeldCallIsHold() {
    CliRun r = eval("create_refund", "{\"amount\": 3000}");

    assertThat(r.outLines()).containsExactly("{\"decision\":\"hold\",\"policy\":\"refunds\","
        + "\"rule\":\"big refunds need approval\",\"message\":\"Approval required by rule"
        + " \\\"big refunds need approval\\\"\"}");
  }

  @Test
  void aShadowVerdictIsIncludedWhenPresent() {
    CliRun r = eval("send_email", "{\"to\": \"x@evil.test\"}");

    assertThat(r.outLines()).containsExactly("{\"decision\":\"allow\",\"policy\":\"refunds\","
        + "\"rule\":null,\"message\":\"Allowed\",\"shadow\":{\"decision\":\"deny\",\"policy\":"
        + "\"refunds\",\"rule\":\"no evil domains\",\"message\":\"Denied by rule \\\"no evil"
        + " domains\\\"\"}}");
  }

  @Test
  void argumentsThatAreNotAnObjectAreDenied() {
    CliRun r = eval("create_refund", "[1, 2]");

    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("\"decision\":\"deny\"")
        .contains("\"message\":\"Tool arguments must be a JSON object\"");
  }

  @Test
  void withoutArgsTheCallHasNoArguments() {
    CliRun r = CliRun.of("eval", "--policy", policy, "--tool", "create_refund",
        "--context", "agent=support");

    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("\"rule\":\"max single refund\"");
  }

  @Test
  void theContextSelectsPolicies() {
    CliRun r = CliRun.of("eval", "--policy", policy, "--tool", "create_refund", "--args", "{}",
        "--context", "agent=billing", "--context", "environment=prod");

    assertThat(r.outLines()).containsExactly("{\"decision\":\"deny\",\"policy\":null,"
        + "\"rule\":null,\"message\":\"No policy applies to this call\"}");
  }

  @Test
  void severalPoliciesFormAnOrderedSet() throws IOException {
    String open = Files.writeString(dir.resolve("open.yaml"),
        "version: \"1\"\ndefault: allow\n").toString();

    CliRun r = CliRun.of("eval", "--policy", open, "--policy", policy, "--tool", "list_orders",
        "--args", "{}", "--context", "agent=support");

    assertThat(r.outLines()).containsExactly("{\"decision\":\"deny\",\"policy\":\"refunds\","
        + "\"rule\":null,\"message\":\"Tool \\\"list_orders\\\" is not permitted by policy\"}");
  }

  @Test
  void pricesFeedSpendRules() {
    CliRun r = CliRun.of("eval", "--policy", images, "--tool", "generate_image",
        "--price", "generate_image=0.06");

    assertThat(r.code()).isZero();
    assertThat(r.out()).contains(
        "\"message\":\"Spend of 0.06 exceeds the per-call limit of 0.05\"");
  }

  @Test
  void aMissingPriceIsAnError() {
    CliRun r = CliRun.of("eval", "--policy", images, "--tool", "generate_image");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("no price is registered for tool 'generate_image'")
        .contains("(use --price TOOL=AMOUNT)");
  }

  @Test
  void aNegativePriceIsAUsageError() {
    CliRun r = CliRun.of("eval", "--policy", images, "--tool", "generate_image",
        "--price", "generate_image=-1");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("saferun: --price generate_image must be >= 0, got -1");
  }

  @Test
  void aBadInstantIsAUsageError() {
    CliRun r = CliRun.of("eval", "--policy", policy, "--tool", "x", "--at", "yesterday");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("saferun: --at must be an instant like 2026-01-15T10:30:00Z,"
        + " got 'yesterday'");
  }

  @Test
  void withoutAtTheSystemClockIsUsed() {
    CliRun r = CliRun.of("eval", "--policy", policy, "--tool", "create_refund",
        "--args", "{\"amount\": 1}", "--context", "agent=support");

    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("\"decision\":\"allow\"");
  }

  @Test
  void anInvalidPolicyIsReportedOnStderrAndExits2() throws IOException {
    String bad = Files.writeString(dir.resolve("bad.yaml"), "version: \"1\"\ndefautl: allow\n")
        .toString();

    CliRun r = CliRun.of("eval", "--policy", bad, "--tool", "x", "--args", "{}");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines()).singleElement().asString()
        .startsWith(bad + ":2:1: unknown key 'defautl', did you mean 'default'?");
  }

  @Test
  void aMissingToolIsAUsageError() {
    CliRun r = CliRun.of("eval", "--policy", policy);

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required option: '--tool=NAME'");
  }

  @Test
  void theStripeSeedPolicyDeniesUnlistedTools() {
    CliRun r = CliRun.of("eval", "--policy", "../saferun-test/src/test/policies/stripe.yaml",
        "--tool", "list_customers", "--args", "{}");

    assertThat(r.outLines()).containsExactly("{\"decision\":\"deny\",\"policy\":\"stripe\","
        + "\"rule\":null,\"message\":\"Tool \\\"list_customers\\\" is not permitted by policy\"}");
  }
}
