package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.CallContext;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.FileAuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.test.FakeClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A log written by a real SafeRun (tools that run and fail, spend) through the commands. */
class AuditWorkflowTest {
  static final String POLICY = """
      version: "1"
      name: shop
      tools:
        refund:
          rules:
            - name: two a minute
              rate_limit: 2/minute
            - name: budget
              spend: {daily: 1000, amount_from: args.amount}
      """;

  @TempDir
  Path dir;

  Path log;
  Path policy;

  @BeforeEach
  void record() throws Exception {
    policy = Files.writeString(dir.resolve("shop.yaml"), POLICY);
    log = dir.resolve("logs").resolve("audit.jsonl");
    FakeClock clock = new FakeClock(java.time.Instant.parse("2026-01-15T10:30:00Z"));
    try (FileAuditSink sink = FileAuditSink.builder(log).clock(clock).maxFileBytes(4096)
        .build()) {
      SafeRun s = SafeRun.builder().policies(PolicySet.of(PolicyLoader.load(policy)))
          .clock(clock).auditSink(sink).build();
      CallContext ctx = CallContext.of("run", "r9", "user", "ann");
      s.execute(ToolCall.of("refund", "{\"amount\":40}", ctx), c -> {
        clock.advance(Duration.ofMillis(12));
        return "ok";
      });
      try {
        s.execute(ToolCall.of("refund", "{\"amount\":30}", ctx), c -> {
          throw new IllegalStateException("payment provider down");
        });
      } catch (IllegalStateException expected) {
        // the tool failed: its counters were refunded
      }
      // Allowed only because the failed call was refunded (2 a minute).
      s.execute(ToolCall.of("refund", "{\"amount\":25}", ctx), c -> "ok");
      s.execute(ToolCall.of("refund", "{\"amount\":5}", ctx), c -> "ok"); // denied: rate
    }
  }

  @Test
  void runsShowListsOutcomesLatencyAndCost() {
    CliRun r = CliRun.of("runs", "show", "r9", "--audit", log.getParent().toString());

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).containsSubsequence(
        "Run r9 (user=ann): 4 tool calls, 2026-01-15T10:30:00Z to 2026-01-15T10:30:00.012Z",
        "#1  2026-01-15T10:30:00Z  refund {\"amount\":40}",
        "    allowed         policy shop, cost 40, decided in 0.00 ms",
        "    executed        in 12.00 ms",
        "#2  2026-01-15T10:30:00.012Z  refund {\"amount\":30}",
        "    allowed         policy shop, cost 30, decided in 0.00 ms",
        "    failed          after 0.00 ms: java.lang.IllegalStateException: payment provider"
            + " down",
        "#4  2026-01-15T10:30:00.012Z  refund {\"amount\":5}",
        "    denied          rule \"two a minute\" (policy shop): Rate limit of 2 per minute"
            + " reached. Try again later., decided in 0.00 ms");
    assertThat(r.outLines()).last().isEqualTo("4 calls: 3 allowed, 1 denied, 0 held; 2 executed,"
        + " 1 failed; cost 95; tool time 12.00 ms");
  }

  @Test
  void replayRefundsWhatTheRecordedToolFailureRefunded() {
    CliRun r = CliRun.of("replay", "--audit", log.getParent().toString(), "--policy",
        policy.toString());

    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.outLines()).first().isEqualTo("Replayed 4 decisions (1 SafeRun instance)"
        + " under shop.yaml: no decision would change.");
  }

  @Test
  void queryAndVerifyReadTheDirectory() {
    CliRun v = CliRun.of("audit", "verify", log.getParent().toString());
    assertThat(v.code()).isZero();
    assertThat(v.outLines()).first().asString().startsWith("OK: 9 records (7 events) in 1 file");

    CliRun q = CliRun.of("audit", "query", log.getParent().toString(), "--decision",
        "failed,executed", "--format", "csv");
    assertThat(q.outLines()).hasSize(4);
    assertThat(q.outLines().get(2)).contains(",failed,refund,r9,,,ann,,shop,")
        .contains("payment provider down");
  }
}
