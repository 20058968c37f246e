package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateCommandTest {
  @TempDir
  Path dir;

  Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }

  @Test
  void aValidFileIsReportedValidAndExits0() throws IOException {
    Path f = write("ok.yaml", "version: \"1\"\ntools:\n  list_customers:\n    rules: []\n");

    CliRun r = CliRun.of("validate", f.toString());

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).containsExactly(f + ": valid");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void everyProblemIsOneLineWithFileLineAndColumnAndExits1() throws IOException {
    Path f = write("bad.yaml", """
        version: "1"
        tool:
          x:
            rules:
              - name: cap
                conditions: [{path: args.amount, op: lte, value: "100"}]
        """);

    CliRun r = CliRun.of("validate", f.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).singleElement().asString()
        .startsWith(f + ":2:1: unknown key 'tool', did you mean 'tools'?");
  }

  @Test
  void severalProblemsInOneFileAreAllListed() throws IOException {
    Path f = write("bad.yaml", """
        version: "1"
        default: maybe
        tools:
          x:
            rules:
              - name: cap
                conditions: [{path: args.amount, op: lte, value: "100"}]
        """);

    CliRun r = CliRun.of("validate", f.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).hasSize(2);
    assertThat(r.outLines().get(0)).startsWith(f + ":2:").contains("default must be allow or deny");
    assertThat(r.outLines().get(1)).startsWith(f + ":7:")
        .contains("operator lte needs a number, got text '100'");
  }

  @Test
  void warningsOfAValidFileArePrintedAndMarked() throws IOException {
    Path f = write("warn.yaml", """
        version: "1"
        hide: [delete_customer]
        tools:
          delete_customer:
            rules: []
        """);

    CliRun r = CliRun.of("validate", f.toString());

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).hasSize(2);
    assertThat(r.outLines().get(0)).isEqualTo(f + ": valid");
    assertThat(r.outLines().get(1)).startsWith(f + ":4:3: warning: ")
        .contains("listed but also hidden");
  }

  @Test
  void oneInvalidFileAmongSeveralExits1AndEveryFileIsReported() throws IOException {
    Path ok = write("ok.yaml", "version: \"1\"\n");
    Path bad = write("bad.yaml", "version: \"2\"\n");

    CliRun r = CliRun.of("validate", ok.toString(), bad.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).hasSize(2);
    assertThat(r.outLines().get(0)).isEqualTo(ok + ": valid");
    assertThat(r.outLines().get(1)).startsWith(bad + ":1:").contains("unsupported version '2'");
  }

  @Test
  void aMissingFileIsInvalid() {
    Path missing = dir.resolve("missing.yaml");

    CliRun r = CliRun.of("validate", missing.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).containsExactly(missing + ": no such file");
  }

  @Test
  void invalidYamlIsReportedWithItsLocation() throws IOException {
    Path f = write("broken.yaml", "version: \"1\"\ntools: [\n");

    CliRun r = CliRun.of("validate", f.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).singleElement().asString().matches(
        java.util.regex.Pattern.quote(f.toString()) + ":\\d+:\\d+: invalid YAML.*");
  }

  @Test
  void policyTestFilesAreValidatedAsTestFiles() throws IOException {
    write("p.yaml", "version: \"1\"\ntools:\n  x:\n");
    Path ok = write("ok.test.yaml", "policy: p.yaml\ncases: [{name: c, call: x, expect: allow}]\n");
    Path bad = write("bad.test.yaml", "policy: p.yaml\ncases: [{name: c, call: x, expect: ok}]\n");

    CliRun r = CliRun.of("validate", ok.toString(), bad.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.outLines()).hasSize(2);
    assertThat(r.outLines().get(0)).isEqualTo(ok + ": valid");
    assertThat(r.outLines().get(1)).startsWith(bad + ":2:").contains("must be allow, deny or hold");
  }

  @Test
  void withoutFilesItIsAUsageError() {
    CliRun r = CliRun.of("validate");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required parameter: 'FILE'");
  }

  @Test
  void theShippedStripePolicyIsValid() {
    Path stripe = Path.of("../saferun-test/src/test/policies/stripe.yaml");

    CliRun r = CliRun.of("validate", stripe.toString());

    assertThat(r.code()).isZero();
    assertThat(r.outLines()).containsExactly(stripe + ": valid");
  }
}
