package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * saferun test --audit, audit verify, audit query, runs show: one known log made by a policy test
 * run, then each command against it and against damaged copies.
 */
class AuditCommandsTest {
  static final String POLICY = """
      version: "1"
      name: refunds
      redact: [args.card]
      tools:
        refund:
          rules:
            - name: cap
              conditions: [{path: args.amount, op: lte, value: 100}]
            - name: burst
              rate_limit: 3/minute
        email:
          rules:
            - name: no external mail
              mode: shadow
              conditions: [{path: args.to, op: regex, value: "@example\\\\.com$"}]
        wire:
          rules:
            - name: a human signs wires
              action: require_approval
      """;

  static final String CASES = """
      policy: refunds.yaml
      clock: 2026-01-15T10:30:00Z
      context: {agent: support, run: r1, user: u1}
      cases:
        - {name: small, call: refund, args: {amount: 5, card: "4242424242424242"}, expect: allow}
        - {name: big, call: refund, args: {amount: 500, card: "4242424242424242"}, expect: deny}
        - {name: more, call: refund, args: {amount: 10, card: "4242424242424242"}, repeat: 2,
           expect: allow}
        - advance: 1m
        - {name: later, call: refund, args: {amount: 6, card: "4242424242424242"}, expect: allow}
        - {name: external, call: email, args: {to: a@evil.test},
           expect: {decision: allow, shadow: deny}}
        - {name: internal, call: email, args: {to: b@example.com}, context: {run: r2},
           expect: allow}
      """;

  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  Path log;

  @BeforeEach
  void recordATestRun() throws IOException {
    Files.writeString(dir.resolve("refunds.yaml"), POLICY);
    Path cases = Files.writeString(dir.resolve("refunds.test.yaml"), CASES);
    log = dir.resolve("out.jsonl");

    CliRun r = CliRun.of("test", cases.toString(), "--audit", log.toString());

    assertThat(r.err()).isEmpty();
    assertThat(r.outLines()).last().isEqualTo("6 passed, 0 failed");
    assertThat(r.code()).isZero();
  }

  List<String> lines() throws IOException {
    return Files.readAllLines(log);
  }

  @Test
  void testAuditWritesOneRecordPerDecisionWithTheTestClockAndNoRedactedValue()
      throws IOException {
    List<String> lines = lines();
    assertThat(lines).hasSize(9); // header, 7 decisions, end
    assertThat(lines.get(1)).contains("\"time\":\"2026-01-15T10:30:00Z\"")
        .contains("\"type\":\"ALLOWED\"").contains("\"arguments\":{\"amount\":5,\"card\":\"***\"}");
    assertThat(lines.get(5)).contains("\"time\":\"2026-01-15T10:31:00Z\"");
    assertThat(Files.readString(log, StandardCharsets.ISO_8859_1))
        .doesNotContain("4242424242424242");
  }

  @Test
  void testAuditReplacesAnEarlierLog() throws IOException {
    CliRun again = CliRun.of("test", dir.resolve("refunds.test.yaml").toString(), "--audit",
        log.toString());

    assertThat(again.code()).isZero();
    assertThat(lines()).hasSize(9);
  }

  @Test
  void verifyAnIntactLogExits0() {
    CliRun r = CliRun.of("audit", "verify", log.toString());

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).singleElement().asString()
        .matches("OK: 9 records \\(7 events\\) in 1 file verified in \\d+\\.\\d\\d s; head"
            + " [0-9a-f]{64}");
  }

  @Test
  void verifyNamesTheEditedLineAndExits1() throws IOException {
    List<String> lines = lines();
    lines.set(2, lines.get(2).replace("\"DENIED\"", "\"ALLOWED\""));
    Files.write(log, lines);

    CliRun r = CliRun.of("audit", "verify", log.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).containsExactly(
        "FAILED: " + log + ":3: edited: the record's content does not match its hash: it was"
            + " edited",
        "2 records before it verified.");
  }

  @Test
  void verifyNamesADeletionAndAReorder() throws IOException {
    List<String> lines = lines();
    Path deleted = dir.resolve("deleted.jsonl");
    Files.write(deleted, List.of(lines.get(0), lines.get(1), lines.get(3), lines.get(4)));
    Path swapped = dir.resolve("swapped.jsonl");
    Files.write(swapped, List.of(lines.get(0), lines.get(2), lines.get(1), lines.get(3)));

    assertThat(CliRun.of("audit", "verify", deleted.toString()).outLines()).first()
        .isEqualTo("FAILED: " + deleted + ":3: deleted: 1 record missing before this line (n=3)");
    assertThat(CliRun.of("audit", "verify", swapped.toString()).outLines()).first()
        .isEqualTo("FAILED: " + swapped + ":2: reordered: out of order: record n=2 should be"
            + " here but comes later, at " + swapped + ":3");
  }

  @Test
  void verifyReportsATornTailAndExits1() throws IOException {
    byte[] bytes = Files.readAllBytes(log);
    Files.write(log, Arrays.copyOf(bytes, bytes.length - 30));

    CliRun r = CliRun.of("audit", "verify", log.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines().get(0)).startsWith("FAILED: " + log + ":9: truncated: truncated"
        + " tail: the last record is incomplete");
    assertThat(r.outLines().get(1)).isEqualTo("8 records before it verified.");
  }

  @Test
  void verifyOfAMissingFileOrAKeyedLogWithoutItsKeyExits2() throws IOException {
    CliRun missing = CliRun.of("audit", "verify", dir.resolve("nope.jsonl").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("nope.jsonl: no such file or directory");

    Path keyed = dir.resolve("keyed.jsonl");
    Path key = Files.writeString(dir.resolve("audit.key"), "0123456789abcdef0123456789abcdef\n");
    try (var sink = dev.saferun.audit.FileAuditSink.builder(keyed)
        .hmacKey(dev.saferun.audit.AuditLog.readKey(key)).build()) {
      dev.saferun.test.PolicyTestFile.load(dir.resolve("refunds.test.yaml")).run(sink);
    }
    CliRun noKey = CliRun.of("audit", "verify", keyed.toString());
    assertThat(noKey.code()).isEqualTo(2);
    assertThat(noKey.err()).contains("is keyed (hmac-sha256, key id ")
        .contains("--key-file");
    CliRun withKey = CliRun.of("audit", "verify", keyed.toString(), "--key-file", key.toString());
    assertThat(withKey.code()).isZero();
  }

  @Test
  void verifyWithAnAnchorDetectsRecordsCutFromTheEnd() throws IOException {
    String ok = CliRun.of("audit", "verify", log.toString()).outLines().get(0);
    String head = ok.substring(ok.lastIndexOf(' ') + 1);
    List<String> lines = lines();
    Files.write(log, lines.subList(0, lines.size() - 2));

    CliRun plain = CliRun.of("audit", "verify", log.toString());
    assertThat(plain.code()).isZero();
    assertThat(plain.outLines().get(1)).startsWith("note: " + log + ": no end record after line"
        + " 7");
    CliRun anchored = CliRun.of("audit", "verify", log.toString(), "--anchor", head);
    assertThat(anchored.code()).isEqualTo(1);
    assertThat(anchored.outLines().get(0)).isEqualTo("FAILED: " + log + ":7: anchor missing: the"
        + " anchor record " + head + " is not in the log: records were removed from the end, or"
        + " the chain was rewritten from some point on");
  }

  @Test
  void verifyWithPartialAcceptsALogWhoseStartWasRemoved() throws IOException {
    List<String> lines = lines();
    Files.write(log, lines.subList(3, lines.size()));

    assertThat(CliRun.of("audit", "verify", log.toString()).outLines().get(0))
        .isEqualTo("FAILED: " + log + ":1: deleted: 3 records missing at the start of the log"
            + " (n=1..3); if older files were removed on purpose, use --partial");
    CliRun partial = CliRun.of("audit", "verify", log.toString(), "--partial");
    assertThat(partial.code()).isZero();
    assertThat(partial.outLines().get(1)).isEqualTo("note: " + log + ":1: the log starts"
        + " mid-chain at record n=4 (--partial)");
  }

  @Test
  void queryFiltersByDecisionAndPrintsJsonLines() throws IOException {
    CliRun r = CliRun.of("audit", "query", log.toString(), "--decision", "deny", "--format",
        "json");

    assertThat(r.code()).isZero();
    JsonNode row = JSON.readTree(r.outLines().get(0));
    assertThat(r.outLines()).hasSize(1);
    assertThat(row.path("source").asText()).isEqualTo(log + ":3");
    assertThat(row.path("rule").asText()).isEqualTo("cap");
    assertThat(row.path("arguments").path("card").asText()).isEqualTo("***");
    assertThat(row.path("context").path("run").asText()).isEqualTo("r1");
  }

  @Test
  void queryCombinesFiltersAndTimeBounds() {
    CliRun r = CliRun.of("audit", "query", log.toString(), "--tool", "refund,email", "--run",
        "r1", "--since", "2026-01-15T10:31:00Z", "--format", "csv");

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).hasSize(3);
    assertThat(r.outLines().get(0)).startsWith("source,time,sequence,type,tool,run,agent,");
    assertThat(r.outLines().get(1)).startsWith(log + ":6,2026-01-15T10:31:00Z,5,allowed,refund,"
        + "r1,support,,u1,,refunds,");
    assertThat(r.outLines().get(2)).contains(",allowed,email,r1,").contains(",deny,");

    CliRun until = CliRun.of("audit", "query", log.toString(), "--until", "2026-01-15T10:31:00Z",
        "--user", "u1", "--context", "agent=support");
    assertThat(until.outLines()).last().isEqualTo("4 events");
  }

  @Test
  void shadowDiffListsTheCallsWhereTheShadowVerdictDiffersWithASummaryPerRule() {
    CliRun r = CliRun.of("audit", "query", log.toString(), "--shadow-diff");

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).containsExactly(
        "TIME                  TOOL   ENFORCED  RULE  SHADOW  SHADOW RULE       RUN  USER"
            + "  ARGUMENTS",
        "2026-01-15T10:31:00Z  email  allowed   -     denied  no external mail  r1   u1"
            + "    {\"to\":\"a@evil.test\"}",
        "1 decision where the shadow verdict differs",
        "By shadow rule:",
        "  \"no external mail\" (refunds): 1 (allowed -> would be denied: 1)");
  }

  @Test
  void aBadFilterValueIsAUsageError() {
    CliRun r = CliRun.of("audit", "query", log.toString(), "--decision", "maybe");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--decision must be one of allowed, denied, held");
  }

  @Test
  void runsShowStepsThroughOneRunInOrder() {
    CliRun r = CliRun.of("runs", "show", "r1", "--audit", log.toString());

    assertThat(r.code()).isZero();
    List<String> out = r.outLines();
    assertThat(out.get(0)).isEqualTo("Run r1 (agent=support, user=u1): 6 tool calls,"
        + " 2026-01-15T10:30:00Z to 2026-01-15T10:31:00Z");
    assertThat(out).contains(
        "#2  2026-01-15T10:30:00Z  refund {\"amount\":500,\"card\":\"***\"}",
        "    denied          rule \"cap\" (policy refunds): Denied by rule \"cap\", decided in"
            + " 0.00 ms",
        "    allowed         policy refunds, shadow: would be denied by rule \"no external"
            + " mail\", decided in 0.00 ms");
    assertThat(out).last().isEqualTo("6 calls: 5 allowed, 1 denied, 0 held; 0 executed, 0 failed;"
        + " tool time 0.00 ms");
  }

  @Test
  void runsShowOfAnUnknownRunExits1() {
    CliRun r = CliRun.of("runs", "show", "nope", "--audit", log.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("no event of run 'nope'");
  }
}
