package dev.saferun;

import static dev.saferun.Fixtures.call;
import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SPEC §3 arguments and issue #2 "bad input": denied with a reason, never thrown, never run. */
class BadInputTest {
  private static final String OPEN = "version: \"1\"\ndefault: allow\ntools: {}\n";
  private final ManualClock clock = new ManualClock();

  @ParameterizedTest
  @ValueSource(strings = {"[1, 2]", "\"hello\"", "5", "true", "null"})
  void nonObjectArgumentsAreDeniedWithTheSpecMessage(String json) {
    Decision d = call(Fixtures.safeRun(clock, OPEN), "t", json);
    assertThat(d.isDenied()).isTrue();
    assertThat(d.message()).isEqualTo("Tool arguments must be a JSON object");
  }

  @Test
  void absentOrBlankArgumentsMeanAnEmptyObject() {
    SafeRun s = Fixtures.safeRun(clock, OPEN);
    assertThat(call(s, "t", null).isAllowed()).isTrue();
    assertThat(call(s, "t", "  ").isAllowed()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"{", "{\"a\":}", "{\"a\":1} trailing", "{'a':1}", "{\"a\":NaN}",
      "{\"a\":Infinity}", "{\"a\":-Infinity}", "{a:1}", "{\"a\":1,}"})
  void malformedJsonIsDeniedWithAReason(String json) {
    Decision d = call(Fixtures.safeRun(clock, OPEN), "t", json);
    assertThat(d.isDenied()).isTrue();
    assertThat(d.message()).startsWith("Tool arguments must be a JSON object: ");
  }

  @Test
  void duplicateKeysAreDeniedBecauseParsersDisagreeOnThem() {
    Decision d = call(Fixtures.safeRun(clock, OPEN), "t", "{\"amount\":1,\"amount\":9999}");
    assertThat(d.message())
        .isEqualTo("Tool arguments must be a JSON object: duplicate key 'amount'");
  }

  @Test
  void duplicateKeysInNestedObjectsAreDeniedToo() {
    Decision d = call(Fixtures.safeRun(clock, OPEN), "t",
        "{\"order\":{\"items\":[{\"sku\":\"a\",\"sku\":\"b\"}]}}");
    assertThat(d.message()).isEqualTo("Tool arguments must be a JSON object: duplicate key 'sku'");
  }

  @Test
  @Timeout(5)
  void hugeArgumentsAreDeniedByTheConfiguredLimit() {
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(OPEN)))
        .argumentLimits(1000, 8).clock(clock).auditSink(AuditSink.NONE).build();
    Decision d = call(s, "t", "{\"a\":\"" + "x".repeat(2000) + "\"}");
    assertThat(d.message()).isEqualTo(
        "Tool arguments are too large: 2008 characters, the limit is 1000");
    Decision deep = call(s, "t", "{\"a\":".repeat(9) + "1" + "}".repeat(9));
    assertThat(deep.message()).isEqualTo("Tool arguments are nested too deeply: the limit is 8 levels");
    assertThat(call(s, "t", "{\"a\":".repeat(7) + "1" + "}".repeat(7)).isAllowed()).isTrue();
  }

  @Test
  @Timeout(10)
  void defaultLimitsStopPathologicalInputsQuickly() {
    SafeRun s = Fixtures.safeRun(clock, OPEN);
    assertThat(call(s, "t", "[".repeat(100_000)).isDenied()).isTrue();
    assertThat(call(s, "t", "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}").message())
        .contains("nested too deeply");
    assertThat(call(s, "t", "{\"n\":1" + "0".repeat(5000) + "}").isDenied()).isTrue();
  }

  @Test
  @Timeout(5)
  void regexRunsInLinearTimeOnHostileInput() {
    SafeRun s = Fixtures.safeRun(clock, "version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: r\n        conditions: [{path: args.s, op: regex, value: \"^(a+)+$\"}]\n");
    assertThat(call(s, "t", "{\"s\":\"" + "a".repeat(100_000) + "!\"}").isDenied()).isTrue();
  }

  @Test
  void deniedCallsNeverReachTheTool() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    SafeRun s = Fixtures.safeRun(clock, OPEN);
    for (String bad : new String[] {"[1]", "{", "{\"a\":NaN}"}) {
      assertThat(s.execute(ToolCall.of("t", bad), c -> "ran " + runs.incrementAndGet()))
          .startsWith("[SAFERUN POLICY DENIED] Tool arguments");
    }
    assertThat(runs).hasValue(0);
  }
}
