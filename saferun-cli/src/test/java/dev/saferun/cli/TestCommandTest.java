package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestCommandTest {
  static final String POLICY = """
      version: "1"
      name: refunds
      tools:
        refund:
          rules:
            - name: cap
              conditions: [{path: args.amount, op: lte, value: 100}]
      """;

  @TempDir
  Path dir;

  @BeforeEach
  void writePolicy() throws IOException {
    Files.writeString(dir.resolve("refunds.yaml"), POLICY);
  }

  Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    return Files.writeString(p, text);
  }

  @Test
  void passingCasesPrintPassAndTheSummaryAndExit0() throws IOException {
    Path f = write("a.test.yaml", """
        policy: refunds.yaml
        cases:
          - {name: small refund, call: refund, args: {amount: 5}, expect: allow}
          - {name: big refund, call: refund, args: {amount: 500}, expect: {decision: deny, rule: cap}}
        """);

    CliRun r = CliRun.of("test", f.toString());

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).containsExactly(
        "PASS " + f + " › small refund",
        "PASS " + f + " › big refund",
        "2 passed, 0 failed");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void aFailingCasePrintsAnIndentedDiffAndExits1() throws IOException {
    Path f = write("a.test.yaml", """
        policy: refunds.yaml
        cases:
          - {name: big refund, call: refund, args: {amount: 500}, expect: allow}
          - {name: small refund, call: refund, args: {amount: 5}, expect: allow}
        """);

    CliRun r = CliRun.of("test", f.toString());

    assertThat(r.code()).isEqualTo(1);
    List<String> lines = r.outLines();
    assertThat(lines.get(0)).isEqualTo("FAIL " + f + " › big refund");
    assertThat(lines.get(1)).isEqualTo("    expected: allow");
    assertThat(lines.get(2)).isEqualTo("    actual:   deny");
    assertThat(lines.get(3)).startsWith("    decision: deny, policy \"refunds\" (version ")
        .endsWith("rule \"cap\", message \"Denied by rule \\\"cap\\\"\"");
    assertThat(lines.get(4)).isEqualTo("    at " + f + ":3:5");
    assertThat(lines.get(5)).isEqualTo("    trace:");
    assertThat(lines.get(6))
        .isEqualTo("      refunds / refund / \"cap\": DENIED - args.amount = 500 is not lte 100");
    assertThat(lines.subList(7, lines.size())).containsExactly(
        "PASS " + f + " › small refund",
        "1 passed, 1 failed");
  }

  @Test
  void aDirectoryRunsEveryTestFileUnderItSorted() throws IOException {
    String ok = "policy: ../refunds.yaml\ncases: [{name: c, call: refund, expect: deny}]\n";
    Path b = write("suite/b.test.yaml", ok);
    Path a = write("suite/a.test.yaml", ok);
    Path nested = write("suite/x/c.test.yaml", "policy: ../../refunds.yaml\n"
        + "cases: [{name: c, call: refund, expect: deny}]\n");
    write("suite/notes.yaml", "not: a test\n");

    CliRun r = CliRun.of("test", dir.resolve("suite").toString());

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).containsExactly(
        "PASS " + a + " › c", "PASS " + b + " › c", "PASS " + nested + " › c",
        "3 passed, 0 failed");
  }

  @Test
  void anInvalidFileIsReportedWithItsLocationAndExits2() throws IOException {
    Path bad = write("bad.test.yaml", """
        policy: refunds.yaml
        cases:
          - {name: c, call: refund, expect: alow}
        """);
    Path good = write("good.test.yaml", "policy: refunds.yaml\n"
        + "cases: [{name: c, call: refund, args: {amount: 500}, expect: allow}]\n");

    CliRun r = CliRun.of("test", bad.toString(), good.toString());

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.errLines()).singleElement().asString()
        .startsWith(bad + ":3:").contains("did you mean 'allow'?");
    assertThat(r.outLines()).first().isEqualTo("FAIL " + good + " › c");
    assertThat(r.outLines()).last().isEqualTo("0 passed, 1 failed");
  }

  @Test
  void anInvalidPolicyInATestFileExits2() throws IOException {
    write("broken.yaml", "version: \"1\"\ntools:\n  x:\n    rules:\n      - name: r\n");
    Path f = write("t.test.yaml", "policy: broken.yaml\ncases: [{name: c, call: x, expect: deny}]\n");

    CliRun r = CliRun.of("test", f.toString());

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(dir.resolve("broken.yaml") + ":5:")
        .contains("needs at least one condition");
    assertThat(r.outLines()).containsExactly("0 passed, 0 failed");
  }

  @Test
  void aMissingPathExits2() {
    CliRun r = CliRun.of("test", dir.resolve("nope").toString());

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines()).containsExactly(
        "saferun: " + dir.resolve("nope") + ": no such file or directory");
  }

  @Test
  void aDirectoryWithoutTestFilesExits2() throws IOException {
    Files.createDirectories(dir.resolve("empty"));

    CliRun r = CliRun.of("test", dir.resolve("empty").toString());

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("saferun: no .test.yaml files found in");
  }

  @Test
  void anApprovalStepOnACallThatIsNotHeldFailsAndSaysWhy() throws IOException {
    Path f = write("a.test.yaml", """
        policy: refunds.yaml
        cases:
          - {name: approved, call: refund, args: {amount: 500}, approval: approve, expect: allow}
        """);

    CliRun r = CliRun.of("test", f.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).contains("FAIL " + f + " › approved")
        .contains("    actual:   deny (not held)")
        .contains("    the call was not held, so there was nothing to approve; the decision"
            + " shown is the call's own");
  }

  @Test
  void anApprovalStepDecidesTheHeldCall() throws IOException {
    Files.writeString(dir.resolve("wire.yaml"), """
        version: "1"
        name: wires
        tools:
          wire:
            rules:
              - {name: a human signs, action: require_approval}
        """);
    Path f = write("w.test.yaml", """
        policy: wire.yaml
        cases:
          - {name: approved, call: wire, approval: {approve: true, by: ann}, expect: allow}
          - {name: denied, call: wire, approval: deny, expect: {decision: deny, message: Denied by approver test}}
          - {name: timed out, call: wire, approval: timeout, expect: {decision: deny, message_contains: expired}}
        """);

    CliRun r = CliRun.of("test", f.toString());

    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.outLines()).last().isEqualTo("3 passed, 0 failed");
  }

  @Test
  void theShippedPolicyTestFilesAllPass() {
    CliRun r = CliRun.of("test", "../saferun-test/src/test/policies");

    assertThat(r.err()).isEmpty();
    assertThat(r.outLines()).last().asString().matches("\\d+ passed, 0 failed");
    assertThat(r.code()).isZero();
  }
}
