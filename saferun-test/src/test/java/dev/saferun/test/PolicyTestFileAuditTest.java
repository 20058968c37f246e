package dev.saferun.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.audit.AuditEvent;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code PolicyTestFile.run(AuditSink)}: a test run's decisions reach the sink given. */
class PolicyTestFileAuditTest {
  static final String FILE = """
      policy:
        version: "1"
        name: refunds
        redact: [args.card]
        tools:
          refund:
            rules:
              - name: cap
                conditions: [{path: args.amount, op: lte, value: 100}]
      clock: 2026-01-15T10:30:00Z
      context: {run: r1}
      cases:
        - {name: small, call: refund, args: {amount: 5, card: "4242"}, expect: allow}
        - advance: 1m
        - {name: big, call: refund, args: {amount: 500, card: "4242"}, expect: deny}
      """;

  @Test
  void everyDecisionIsRecordedWithTheFakeClocksTimeAndRedactedArguments() {
    RecordingAuditSink sink = new RecordingAuditSink();

    FileResult r = PolicyTestFile.parse(FILE, "t.test.yaml", Path.of(".")).run(sink);

    assertThat(r.failed()).isZero();
    assertThat(sink.types()).containsExactly(AuditEvent.Type.ALLOWED, AuditEvent.Type.DENIED);
    assertThat(sink.events()).extracting(e -> e.time().toString())
        .containsExactly("2026-01-15T10:30:00Z", "2026-01-15T10:31:00Z");
    assertThat(sink.last().arguments()).isEqualTo("{\"amount\":500,\"card\":\"***\"}");
    assertThat(sink.last().context().get("run")).isEqualTo("r1");
  }
}
