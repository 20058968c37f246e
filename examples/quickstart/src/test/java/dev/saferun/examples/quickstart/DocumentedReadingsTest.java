package dev.saferun.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.PolicyConfigException;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.test.FakeClock;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Claims of {@code docs/policy-language.md} that its call lists cannot show: limits, build-time
 * checks, reloads and the Java API. If one of these fails, the reference says something SafeRun
 * does not do.
 */
class DocumentedReadingsTest {
  private final FakeClock clock = FakeClock.at("2026-01-15T10:30:00Z");

  private SafeRun safeRun(String... yamlDocuments) {
    PolicySet set = set(yamlDocuments);
    return SafeRun.builder().policies(set).clock(clock).auditSink(AuditSink.NONE).build();
  }

  private static PolicySet set(String... yamlDocuments) {
    List<Policy> policies = new ArrayList<>();
    for (int i = 0; i < yamlDocuments.length; i++) {
      policies.add(PolicyLoader.loadString(yamlDocuments[i], "p" + i + ".yaml"));
    }
    return PolicySet.of(policies);
  }

  private static final String ALLOW_ALL = "version: \"1\"\ndefault: allow\ntools: {}\n";

  @Test
  void argumentsAreLimitedTo262144CharactersAnd32Levels() {
    SafeRun safeRun = safeRun(ALLOW_ALL);
    String big = "{\"a\":\"" + "x".repeat(262_144) + "\"}";
    String deep = "{\"a\":" + "[".repeat(32) + "]".repeat(32) + "}";

    assertThat(safeRun.evaluate(ToolCall.of("t", big)).message())
        .isEqualTo("Tool arguments are too large: 262152 characters, the limit is 262144");
    assertThat(safeRun.evaluate(ToolCall.of("t", deep)).message())
        .isEqualTo("Tool arguments are nested too deeply: the limit is 32 levels");
  }

  @Test
  void argumentLimitsAreConfigurable() {
    SafeRun safeRun = SafeRun.builder().policies(set(ALLOW_ALL)).argumentLimits(10, 2)
        .auditSink(AuditSink.NONE).build();

    assertThat(safeRun.evaluate(ToolCall.of("t", "{\"a\": 12345}")).isDenied()).isTrue();
    assertThat(safeRun.evaluate(ToolCall.of("t", "{\"a\":{}}")).isAllowed()).isTrue();
    assertThat(safeRun.evaluate(ToolCall.of("t", "{\"a\":{\"b\":{}}}")).isDenied()).isTrue();
  }

  @Test
  void aSpendRuleOfAListedToolWithoutAmountFromNeedsAPriceWhenSafeRunIsBuilt() {
    String yaml = "version: \"1\"\ntools:\n  generate_image:\n    rules:\n"
        + "      - name: image budget\n        spend: {daily: 0.10}\n";

    assertThatThrownBy(() -> SafeRun.builder().policies(set(yaml)).build())
        .isInstanceOf(PolicyConfigException.class)
        .hasMessageContaining("spend rule 'image budget' has no amount_from and no price is"
            + " registered for tool 'generate_image'");
    assertThat(SafeRun.builder().policies(set(yaml))
        .price("generate_image", new BigDecimal("0.04")).build()).isNotNull();
  }

  @Test
  void reloadRejectsASetThatNeedsAMissingPriceAndKeepsTheOldOne() {
    SafeRun safeRun = safeRun(ALLOW_ALL);
    String needsPrice = "version: \"1\"\ntools:\n  generate_image:\n    rules:\n"
        + "      - name: image budget\n        spend: {daily: 0.10}\n";

    assertThatThrownBy(() -> safeRun.reload(set(needsPrice)))
        .isInstanceOf(PolicyConfigException.class);
    assertThat(safeRun.evaluate(ToolCall.of("anything", "{}")).isAllowed()).isTrue();
  }

  @Test
  void countersSurviveAReloadThatKeepsScopeNameWindowAndPer() {
    String limit3 = "version: \"1\"\ntools:\n  search:\n    rules:\n      - name: n\n"
        + "        state: {counter: searches, window: day}\n"
        + "        conditions: [{path: state.search.searches, op: lte, value: 3}]\n";
    SafeRun safeRun = safeRun(limit3);
    safeRun.evaluate(ToolCall.of("search", "{}"));
    safeRun.evaluate(ToolCall.of("search", "{}"));

    safeRun.reload(set(limit3.replace("value: 3", "value: 2")));
    assertThat(safeRun.counter("search.searches", CallContext.empty())).isEqualByComparingTo("2");
    assertThat(safeRun.evaluate(ToolCall.of("search", "{}")).isDenied()).isTrue();

    safeRun.reload(set(limit3.replace("window: day", "window: 24h")));
    assertThat(safeRun.counter("search.searches", CallContext.empty())).isEqualByComparingTo("0");
  }

  @Test
  void policiesDefiningTheSameCounterShareItAndACallChargesItOnce() {
    String team = "version: \"1\"\nname: team\ntools:\n  create_refund:\n    rules:\n"
        + "      - name: t\n        state: {counter: daily_total, window: day,"
        + " increment_from: args.amount}\n";
    String company = team.replace("name: team", "name: company");
    SafeRun safeRun = safeRun(team, company);

    safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\": 40}"));

    assertThat(safeRun.counter("create_refund.daily_total", CallContext.empty()))
        .isEqualByComparingTo("40");
  }

  @Test
  void onDenyDoesNotReplaceTheBadAmountMessage() {
    SafeRun safeRun = safeRun("version: \"1\"\ntools:\n  create_refund:\n    rules:\n"
        + "      - name: daily total\n        on_deny: Budget used up\n"
        + "        state: {counter: t, window: day, increment_from: args.amount}\n"
        + "        conditions: [{path: state.create_refund.t, op: lte, value: 10}]\n");

    assertThat(safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\": -1}")).message())
        .isEqualTo("Rule \"daily total\": args.amount must be a non-negative number");
    assertThat(safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\": 11}")).message())
        .isEqualTo("Budget used up");
  }

  @Test
  void aFixedWindowLimitSaysWhenToRetry() {
    SafeRun safeRun = safeRun("version: \"1\"\ntools:\n  search:\n    rules:\n"
        + "      - name: r\n        rate_limit: 1/minute\n");
    clock.advance(Duration.ofSeconds(15));
    safeRun.evaluate(ToolCall.of("search", "{}"));

    Decision d = safeRun.evaluate(ToolCall.of("search", "{}"));

    assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(45));
  }

  @Test
  void hiddenToolsAreNotOfferedAndNoApplyingPolicyMeansNoTools() {
    SafeRun safeRun = safeRun("version: \"1\"\nmatch: {agent: support}\n"
        + "hide: [delete_customer]\nhide_unlisted: true\ntools:\n  get_customer: {rules: []}\n");
    List<String> tools = List.of("get_customer", "delete_customer", "export_data");

    assertThat(safeRun.visibleTools(tools, CallContext.of("agent", "support")))
        .containsExactly("get_customer");
    assertThat(safeRun.visibleTools(tools, CallContext.of("agent", "billing"))).isEmpty();
    assertThat(safeRun.evaluate(ToolCall.of("export_data", "{}",
        CallContext.of("agent", "support"))).message())
        .isEqualTo("Tool \"export_data\" is hidden by policy");
  }

  @Test
  void aPolicyFileLargerThanOneMebibyteIsRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("big.yaml");
    Files.writeString(file, ALLOW_ALL + "#" + "x".repeat(1 << 20) + "\n");

    assertThatThrownBy(() -> PolicyLoader.load(file))
        .isInstanceOf(PolicyConfigException.class)
        .hasMessageContaining("file is too large");
  }

  @Test
  void moreThanFiftyAliasesToMappingsAreRefused() {
    StringBuilder yaml = new StringBuilder("version: \"1\"\ntools:\n  a: &r {rules: []}\n");
    for (int i = 0; i < 51; i++) {
      yaml.append("  t").append(i).append(": *r\n");
    }

    assertThatThrownBy(() -> PolicyLoader.loadString(yaml.toString(), "aliases.yaml"))
        .isInstanceOf(PolicyConfigException.class)
        .hasMessageContaining("aliases");
    assertThat(PolicyLoader.loadString(yaml.toString().replace("  t50: *r\n", ""), "ok.yaml")
        .tools()).hasSize(51);
  }

  @Test
  void thePolicyNameDefaultsToTheFileName() {
    assertThat(PolicyLoader.loadString(ALLOW_ALL, "billing-agent.yaml").name())
        .isEqualTo("billing-agent");
  }
}
