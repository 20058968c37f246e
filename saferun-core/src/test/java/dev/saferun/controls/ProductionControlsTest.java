package dev.saferun.controls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.Execution;
import dev.saferun.Fixtures;
import dev.saferun.KillSwitch;
import dev.saferun.ManualClock;
import dev.saferun.SafeRun;
import dev.saferun.SafeRunException;
import dev.saferun.Secrets;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditEvent;
import dev.saferun.policy.PolicySet;
import dev.saferun.spi.SecretResolver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Issue #8: argument schemas, error breakers, kill switch, credentials, result controls. */
class ProductionControlsTest {
  private final ManualClock clock = new ManualClock();
  private final List<AuditEvent> events = Collections.synchronizedList(new ArrayList<>());

  private SafeRun.Builder builder(String yaml) {
    return SafeRun.builder().policies(PolicySet.of(Fixtures.policy(yaml))).clock(clock)
        .auditSink(events::add);
  }

  private static final String REFUND_SCHEMA = "{\"type\":\"object\",\"properties\":{"
      + "\"amount\":{\"type\":\"integer\",\"minimum\":1},"
      + "\"customer\":{\"type\":\"string\",\"pattern\":\"^cus_\"},"
      + "\"meta\":{\"type\":\"object\",\"properties\":{\"note\":{\"type\":\"string\"}}}},"
      + "\"required\":[\"amount\",\"customer\"]}";

  @Test
  void strictSchemasDenyNonConformingArgumentsBeforeAnyRuleWithTheJsonPath() {
    SafeRun s = builder("version: \"1\"\ntools:\n  refund:\n    schema: strict\n    rules:\n"
        + "      - name: counted\n        rate_limit: 100/day\n")
        .toolSchema("refund", REFUND_SCHEMA).build();
    assertThat(s.evaluate(ToolCall.of("refund", "{\"amount\":5,\"customer\":\"cus_1\"}"))
        .isAllowed()).isTrue();
    Decision wrongType = s.evaluate(ToolCall.of("refund",
        "{\"amount\":\"5\",\"customer\":\"cus_1\"}"));
    assertThat(wrongType.message()).startsWith(
        "Arguments do not match the schema of tool \"refund\": $.amount: ");
    assertThat(s.evaluate(ToolCall.of("refund", "{\"amount\":5}")).message())
        .contains("customer");
    Decision extra = s.evaluate(ToolCall.of("refund",
        "{\"amount\":5,\"customer\":\"cus_1\",\"refund_all\":true}"));
    assertThat(extra.message()).contains("refund_all");
    Decision nested = s.evaluate(ToolCall.of("refund",
        "{\"amount\":5,\"customer\":\"cus_1\",\"meta\":{\"note\":\"x\",\"admin\":true}}"));
    assertThat(nested.message()).contains("$.meta").contains("admin");
    // denied before any rule ran: nothing was counted
    assertThat(s.counter("refund._rate_day", CallContext.empty())).isEqualByComparingTo("1");
  }

  @Test
  void policyDefaultAndPerToolOverrideAndMissingSchemaFailsClosed() {
    SafeRun s = builder("version: \"1\"\nschema: strict\ntools:\n  a:\n    rules: []\n"
        + "  b:\n    schema: off\n    rules: []\n").build();
    assertThat(s.evaluate(ToolCall.of("a", "{}")).message())
        .isEqualTo("Tool \"a\" requires a schema (schema: strict) but none is registered");
    assertThat(s.evaluate(ToolCall.of("b", "{\"anything\":1}")).isAllowed()).isTrue();
    s.registerSchema("a", "{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\"}}}");
    assertThat(s.evaluate(ToolCall.of("a", "{\"q\":\"x\"}")).isAllowed()).isTrue();
    assertThatThrownBy(() -> s.registerSchema("a", "[1]"))
        .hasMessageContaining("must be a JSON object");
  }

  @Test
  void breakerOpensAfterFailuresProbesAfterCooldownAndClosesOnSuccess() throws Exception {
    SafeRun s = builder("version: \"1\"\ntools:\n  pay:\n"
        + "    breaker: {failures: 3, window: 1m, cooldown: 30s}\n    rules: []\n").build();
    AtomicInteger runs = new AtomicInteger();
    AtomicReference<Boolean> fail = new AtomicReference<>(true);
    dev.saferun.ToolExecutor tool = c -> {
      runs.incrementAndGet();
      if (fail.get()) {
        throw new IllegalStateException("provider 503");
      }
      return "paid";
    };
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> s.execute(ToolCall.of("pay", "{}"), tool))
          .hasMessage("provider 503");
      clock.advance(Duration.ofSeconds(5));
    }
    String denied = s.execute(ToolCall.of("pay", "{}"), tool);
    assertThat(denied).startsWith("[SAFERUN POLICY DENIED] Tool \"pay\" is failing: calls are"
        + " paused until 2026-01-15T10:30:40Z");
    assertThat(runs).hasValue(3);
    assertThat(events).extracting(AuditEvent::type).contains(AuditEvent.Type.BREAKER_OPENED);
    clock.advance(Duration.ofSeconds(30));
    // half-open: the first call is the probe; a second one waits
    Decision probe = s.evaluate(ToolCall.of("pay", "{}"));
    assertThat(probe.isAllowed()).isTrue();
    assertThat(s.evaluate(ToolCall.of("pay", "{}")).message()).contains("a trial call is in progress");
    clock.advance(Duration.ofSeconds(31)); // the probe never reported: another one is allowed
    fail.set(false);
    assertThat(s.execute(ToolCall.of("pay", "{}"), tool)).isEqualTo("paid");
    assertThat(events).extracting(AuditEvent::type).contains(AuditEvent.Type.BREAKER_CLOSED);
    assertThat(s.execute(ToolCall.of("pay", "{}"), tool)).isEqualTo("paid");
  }

  @Test
  void aFailedProbeOpensTheBreakerAgainAndErrorResultsCount() throws Exception {
    SafeRun s = builder("version: \"1\"\ntools:\n  pay:\n"
        + "    breaker: {failures: 2, window: 1m, cooldown: 10s}\n    rules: []\n").build();
    for (int i = 0; i < 2; i++) {
      Execution e = s.run(ToolCall.of("pay", "{}"), c -> "{\"error\":\"declined\"}");
      s.reportToolError(e, "declined");
    }
    assertThat(s.evaluate(ToolCall.of("pay", "{}")).message()).contains("is failing");
    clock.advance(Duration.ofSeconds(10));
    Execution probe = s.run(ToolCall.of("pay", "{}"), c -> "error");
    s.reportToolError(probe, "still declined");
    assertThat(s.evaluate(ToolCall.of("pay", "{}")).message()).contains("paused until");
  }

  @Test
  void killSwitchStopsEverythingOrListedToolsAndAgentsSurvivesReloadAndIsAudited()
      throws Exception {
    String yaml = "version: \"1\"\ndefault: allow\ntools: {}\n";
    SafeRun s = builder(yaml).build();
    KillSwitch k = s.killSwitch();
    k.engageAll("incident 42: refund storm", "oncall-alice");
    assertThat(s.execute(ToolCall.of("anything", "{}"), c -> "ran")).isEqualTo(
        "[SAFERUN POLICY DENIED] Kill switch engaged by oncall-alice: incident 42: refund storm");
    s.reload(PolicySet.of(Fixtures.policy(yaml)));
    assertThat(s.evaluate(ToolCall.of("x", "{}")).isDenied()).isTrue();
    k.engage(Set.of("create_refund"), Set.of("support"), "refunds only", "oncall-bob");
    assertThat(s.evaluate(ToolCall.of("create_refund", "{}")).isDenied()).isTrue();
    assertThat(s.evaluate(ToolCall.of("list", "{}", CallContext.of("agent", "support")))
        .isDenied()).isTrue();
    assertThat(s.evaluate(ToolCall.of("list", "{}", CallContext.of("agent", "sales")))
        .isAllowed()).isTrue();
    k.release("oncall-bob");
    assertThat(s.evaluate(ToolCall.of("create_refund", "{}")).isAllowed()).isTrue();
    assertThat(events).filteredOn(e -> e.type().name().startsWith("KILL_SWITCH"))
        .extracting(AuditEvent::type, AuditEvent::approver).containsExactly(
            org.assertj.core.groups.Tuple.tuple(AuditEvent.Type.KILL_SWITCH_ENGAGED, "oncall-alice"),
            org.assertj.core.groups.Tuple.tuple(AuditEvent.Type.KILL_SWITCH_ENGAGED, "oncall-bob"),
            org.assertj.core.groups.Tuple.tuple(AuditEvent.Type.KILL_SWITCH_RELEASED, "oncall-bob"));
    assertThatThrownBy(() -> k.engageAll("x", " ")).hasMessageContaining("who");
  }

  private static final String SECRET = "sk_live_51H8xYzABCDEFGH";

  @Test
  void secretsReachOnlyAllowedToolsAndNeverTheModelOrTheLog() throws Exception {
    AtomicInteger resolved = new AtomicInteger();
    SecretResolver vault = name -> {
      resolved.incrementAndGet();
      return "STRIPE_KEY".equals(name) ? SECRET : null;
    };
    SafeRun s = builder("version: \"1\"\ntools:\n  charge:\n    rules:\n"
        + "      - name: small\n        conditions: [{path: args.amount, op: lte, value: 100}]\n"
        + "  send_email:\n    rules: []\n")
        .secrets(vault).build();
    AtomicReference<Secrets> leaked = new AtomicReference<>();
    dev.saferun.SecretToolExecutor stripe = (call, secrets) -> {
      leaked.set(secrets);
      String key = secrets.get("STRIPE_KEY");
      return "charged with key " + key;
    };
    Execution denied = s.run(ToolCall.of("charge", "{\"amount\":500}"), stripe);
    assertThat(denied.ran()).isFalse();
    assertThat(resolved).hasValue(0);
    Execution ok = s.run(ToolCall.of("charge", "{\"amount\":50}"), stripe);
    assertThat(ok.text()).isEqualTo("charged with key ***");
    assertThatThrownBy(() -> leaked.get().get("STRIPE_KEY"))
        .isInstanceOf(SafeRunException.class).hasMessageContaining("only available while");
    // an exception message that carries the key is masked
    assertThatThrownBy(() -> s.run(ToolCall.of("charge", "{\"amount\":1}"), (c, sec) -> {
      throw new IllegalStateException("401 for key " + sec.get("STRIPE_KEY"));
    })).isInstanceOf(SafeRunException.class).hasMessageNotContaining(SECRET)
        .hasMessageContaining("401 for key ***");
    // an agent that learned the key cannot pass it on
    List<String> sent = new ArrayList<>();
    s.run(ToolCall.of("send_email", "{\"body\":\"the key is " + SECRET + "\"}"),
        c -> {
          sent.add(c.arguments());
          return "sent";
        });
    assertThat(sent).containsExactly("{\"body\":\"the key is ***\"}");
    for (AuditEvent e : events) {
      assertThat(String.valueOf(e)).doesNotContain(SECRET);
    }
  }

  @Test
  void secretsToMaskFromTheStart() throws Exception {
    SafeRun s = builder("version: \"1\"\ndefault: allow\ntools: {}\n")
        .secrets(SecretResolver.of(Map.of("DB_PASSWORD", "correct-horse-battery")))
        .maskSecrets("DB_PASSWORD").build();
    assertThat(s.execute(ToolCall.of("q", "{\"sql\":\"x\"}"), c -> "pw=correct-horse-battery"))
        .isEqualTo("pw=***");
    assertThatThrownBy(() -> builder("version: \"1\"\ntools: {}\n")
        .secrets(SecretResolver.of(Map.of())).maskSecrets("NOPE").build())
        .hasMessageContaining("secret 'NOPE'");
  }

  @Test
  void resultControlsRedactAndTruncateBeforeTheModelSeesTheResultAndAreAudited()
      throws Exception {
    SafeRun s = builder("version: \"1\"\ntools:\n  get_customer:\n"
        + "    result: {max_chars: 60, redact: [\"\\\\b[0-9]{13,16}\\\\b\"]}\n    rules: []\n")
        .build();
    String out = s.execute(ToolCall.of("get_customer", "{}"),
        c -> "card 4242424242424242 and 5555555555554444; notes: " + "x".repeat(100));
    assertThat(out).startsWith("card *** and ***; notes: xxx")
        .endsWith("[SAFERUN] result truncated: 60 of 125 characters shown")
        .doesNotContain("4242424242424242");
    assertThat(events).filteredOn(e -> e.type() == AuditEvent.Type.EXECUTED)
        .singleElement().extracting(AuditEvent::message)
        .isEqualTo("Result controls: 2 redaction(s), truncated from 125 to 60 characters");
  }

  @Test
  void toolOptionsAreValidatedWithLocations() {
    assertThatThrownBy(() -> Fixtures.policy("version: \"1\"\ntools:\n  t:\n"
        + "    breaker: {failures: 0, window: 1m, cooldwn: 5s}\n"
        + "    result: {max_chars: -1, redact: [\"(\"]}\n    schema: strictly\n    rules: []\n"))
        .hasMessageContaining("test.yaml:4:")
        .hasMessageContaining("breaker failures must be a whole number")
        .hasMessageContaining("unknown key 'cooldwn' in breaker, did you mean 'cooldown'?")
        .hasMessageContaining("max_chars must be a whole number")
        .hasMessageContaining("pattern does not compile")
        .hasMessageContaining("schema must be strict or off, got text 'strictly'");
  }
}
