package dev.saferun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** One SLF4J line per decision, with redacted arguments. */
class DecisionLogTest {

  @Test
  void oneLinePerDecision() {
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(
            "version: \"1\"\nname: support\nredact: [args.card]\ntools:\n"
                + "  create_refund:\n    rules:\n      - name: max single refund\n"
                + "        conditions: [{path: args.amount, op: lte, value: 5000}]\n")))
        .clock(new ManualClock()).auditSink(AuditSink.slf4j()).build();
    PrintStream original = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setErr(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      s.evaluate(ToolCall.of("create_refund", "{\"amount\":6000,\"card\":\"4242\"}"));
    } finally {
      System.setErr(original);
    }
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("[SAFERUN] DENIED tool=create_refund policy=support rule=\"max single refund\"")
        .contains("args={\"amount\":6000,\"card\":\"***\"}")
        .doesNotContain("4242");
  }
}
