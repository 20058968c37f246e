package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** saferun replay over a known log (from a policy test run): exact changes, counters, exits. */
class ReplayCommandTest {
  @TempDir
  Path dir;

  Path log;

  @BeforeEach
  void recordATestRun() throws IOException {
    Files.writeString(dir.resolve("refunds.yaml"), AuditCommandsTest.POLICY);
    Path cases = Files.writeString(dir.resolve("refunds.test.yaml"), AuditCommandsTest.CASES);
    log = dir.resolve("out.jsonl");
    assertThat(CliRun.of("test", cases.toString(), "--audit", log.toString()).code()).isZero();
  }

  Path policy(String name, String yaml) throws IOException {
    return Files.writeString(dir.resolve(name), yaml);
  }

  @Test
  void theRecordingPolicyChangesNothingAndExits0() {
    CliRun r = CliRun.of("replay", "--audit", log.toString(), "--policy",
        dir.resolve("refunds.yaml").toString());

    assertThat(r.err()).isEmpty();
    assertThat(r.code()).isZero();
    assertThat(r.outLines()).containsExactly(
        "Replayed 7 decisions (1 SafeRun instance) under refunds.yaml: no decision would change.",
        "note: 5 call(s) had redacted values (\"***\"): replay evaluates what the log holds, so a"
            + " condition on a redacted path sees \"***\"");
  }

  @Test
  void aStricterRateLimitReportsExactlyTheCallItWouldDenyAndExits1() throws IOException {
    // 2 a minute instead of 3: the fourth refund (the third allowed one) is denied; the refund
    // a minute later is allowed again because replay moves the clock as recorded.
    Path stricter = policy("stricter.yaml", AuditCommandsTest.POLICY
        .replace("rate_limit: 3/minute", "rate_limit: 2/minute"));

    CliRun r = CliRun.of("replay", "--audit", log.toString(), "--policy", stricter.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).containsExactly(
        log + ":5  2026-01-15T10:30:00Z  refund {\"amount\":10,\"card\":\"***\"}  agent=support"
            + " run=r1 user=u1",
        "    recorded: allowed (policy refunds)",
        "    replayed: denied by rule \"burst\" (policy refunds): Rate limit of 2 per minute"
            + " reached. Try again later.",
        "Replayed 7 decisions (1 SafeRun instance) under stricter.yaml: 1 would change.",
        "  allowed -> denied: 1",
        "By rule:",
        "  rule \"burst\" (policy refunds): 1",
        "note: 5 call(s) had redacted values (\"***\"): replay evaluates what the log holds, so a"
            + " condition on a redacted path sees \"***\"");
  }

  @Test
  void aLowerCapAndAnEnforcedShadowRuleReportEveryChangedCall() throws IOException {
    Path stricter = policy("stricter.yaml", AuditCommandsTest.POLICY
        .replace("value: 100}", "value: 7}")
        .replace("        mode: shadow\n", ""));

    CliRun r = CliRun.of("replay", "--audit", log.toString(), "--policy", stricter.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).filteredOn(l -> l.startsWith(log.toString()))
        .extracting(l -> l.substring(log.toString().length(), l.indexOf("  ")))
        .containsExactly(":4", ":5", ":7");
    assertThat(r.outLines()).contains(
        "Replayed 7 decisions (1 SafeRun instance) under stricter.yaml: 3 would change.",
        "  allowed -> denied: 3",
        "  rule \"cap\" (policy refunds): 2",
        "  rule \"no external mail\" (policy refunds): 1");
  }

  @Test
  void eachTestFileIsItsOwnInstanceWithFreshCounters() throws IOException {
    Path second = Files.writeString(dir.resolve("again.test.yaml"), AuditCommandsTest.CASES);
    Path both = dir.resolve("both.jsonl");
    assertThat(CliRun.of("test", dir.resolve("refunds.test.yaml").toString(), second.toString(),
        "--audit", both.toString()).code()).isZero();
    Path stricter = policy("stricter.yaml", AuditCommandsTest.POLICY
        .replace("rate_limit: 3/minute", "rate_limit: 2/minute"));

    CliRun perInstance = CliRun.of("replay", "--audit", both.toString(), "--policy",
        stricter.toString());
    CliRun shared = CliRun.of("replay", "--audit", both.toString(), "--policy",
        stricter.toString(), "--shared-counters");

    assertThat(perInstance.outLines()).contains("Replayed 14 decisions (2 SafeRun instances)"
        + " under stricter.yaml: 2 would change.");
    // One counter for both files, whose calls were recorded at the same times: replayed in time
    // order, the two first refunds use up the minute and all four "more" refunds are denied.
    assertThat(shared.outLines()).contains("Replayed 14 decisions (1 SafeRun instance) under"
        + " stricter.yaml: 4 would change.");
  }

  @Test
  void approvalsAreReplayedAndAHoldTheNewPolicyDeniesIsReported() throws IOException {
    Path cases = Files.writeString(dir.resolve("wire.test.yaml"), """
        policy: refunds.yaml
        clock: 2026-01-15T10:30:00Z
        context: {run: w1}
        cases:
          - name: wire approved with an edit
            call: wire
            args: {amount: 900}
            approval: {approve: true, args: {amount: 800}, by: alice}
            expect: allow
        """);
    Path wires = dir.resolve("wires.jsonl");
    CliRun t = CliRun.of("test", cases.toString(), "--audit", wires.toString());
    assertThat(t.code()).as(t.out()).isZero();

    CliRun same = CliRun.of("replay", "--audit", wires.toString(), "--policy",
        dir.resolve("refunds.yaml").toString());
    assertThat(same.code()).as(same.out()).isZero();
    assertThat(same.outLines()).first().asString().startsWith("Replayed 2 decisions");

    Path denyWires = policy("deny.yaml", AuditCommandsTest.POLICY.replace(
        "action: require_approval", "action: deny"));
    CliRun changed = CliRun.of("replay", "--audit", wires.toString(), "--policy",
        denyWires.toString());
    assertThat(changed.code()).isEqualTo(1);
    assertThat(changed.outLines()).contains(
        "    recorded: held by rule \"a human signs wires\" (policy refunds): Approval required"
            + " by rule \"a human signs wires\"",
        "    replayed: denied by rule \"a human signs wires\" (policy refunds): Denied by rule"
            + " \"a human signs wires\"",
        "  held -> denied: 1");
    assertThat(changed.outLines()).anySatisfy(l -> assertThat(l)
        .startsWith("note: 1 approval re-evaluation(s) not replayed"));
  }

  @Test
  void denialsByRuntimeControlsAreNotPolicyChanges() throws IOException {
    Path controls = dir.resolve("controls.jsonl");
    try (var sink = dev.saferun.audit.FileAuditSink.builder(controls).synchronous().build()) {
      java.time.Instant t = java.time.Instant.parse("2026-01-15T10:30:00Z");
      sink.record(new dev.saferun.audit.AuditEvent(t, 1, dev.saferun.audit.AuditEvent.Type.DENIED,
          "refund", dev.saferun.CallContext.of("run", "r1"), "{\"amount\":5}", null, null, null,
          null, "State store unavailable: connection refused", null, 0, null, null, 0, null));
      sink.record(new dev.saferun.audit.AuditEvent(t, 2, dev.saferun.audit.AuditEvent.Type.DENIED,
          "refund", dev.saferun.CallContext.of("run", "r1"), "{\"amount\":5}", null, null, null,
          null, "No policy applies to this call", null, 0, null, null, 0, null));
    }

    CliRun r = CliRun.of("replay", "--audit", controls.toString(), "--policy",
        dir.resolve("refunds.yaml").toString());

    // The store failure is not replayed; "no policy applies" is a policy-set decision that the
    // new set changes (refund is governed by refunds.yaml).
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).contains(
        "    recorded: denied: No policy applies to this call",
        "    replayed: allowed (policy refunds)",
        "Replayed 1 decision (1 SafeRun instance) under refunds.yaml: 1 would change.",
        "note: 1 recorded denial(s) were made by runtime controls (kill switch, error breaker, an"
            + " unavailable store), not by policy; they are not replayed");
  }

  @Test
  void aSpendRuleWithoutAPriceIsAnError() throws IOException {
    Path spend = policy("spend.yaml", """
        version: "1"
        tools:
          refund:
            rules:
              - name: budget
                spend: {daily: 10}
        """);

    CliRun r = CliRun.of("replay", "--audit", log.toString(), "--policy", spend.toString());

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("no price").contains("--price TOOL=AMOUNT");
  }
}
