package dev.saferun.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/** The JUnit 5 integration: one container per file, one dynamic test per case. */
class SafeRunTestsTest {
  static final String FILE = """
      policy:
        version: "1"
        name: refunds
        tools:
          refund:
            rules:
              - name: cap
                conditions: [{path: args.amount, op: lte, value: 100}]
      cases:
        - {name: small refund, call: refund, args: {amount: 5}, expect: allow}
        - {name: big refund, call: refund, args: {amount: 500}, expect: allow}
        - {name: hidden tools, tools: [refund], expect_visible: [refund]}
      """;

  @TempDir
  Path dir;

  static List<DynamicTest> tests(DynamicContainer c) {
    return c.getChildren().map(DynamicTest.class::cast).collect(Collectors.toList());
  }

  @Test
  void oneContainerPerFileAndOneTestPerCase() throws IOException {
    Files.writeString(dir.resolve("b.test.yaml"), FILE);
    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub/a.test.yaml"), FILE);

    List<DynamicContainer> containers = SafeRunTests.from(dir).collect(Collectors.toList());

    assertThat(containers).extracting(DynamicNode::getDisplayName).containsExactly(
        dir.resolve("b.test.yaml").toString(), dir.resolve("sub/a.test.yaml").toString());
    List<DynamicTest> tests = tests(containers.get(0));
    assertThat(tests).extracting(DynamicNode::getDisplayName)
        .containsExactly("small refund", "big refund", "hidden tools");
    assertThat(tests.get(1).getTestSourceUri()).hasValueSatisfying(uri ->
        assertThat(uri.toString()).endsWith("b.test.yaml?line=11&column=5"));
  }

  @Test
  void aPassingCaseExecutesQuietlyAndAFailingOneThrowsWithItsReport() throws Throwable {
    Files.writeString(dir.resolve("r.test.yaml"), FILE);
    List<DynamicTest> tests = tests(SafeRunTests.from(dir.resolve("r.test.yaml").toString())
        .findFirst().orElseThrow());

    tests.get(0).getExecutable().execute();
    AssertionFailedError failure = catchThrowableOfType(AssertionFailedError.class,
        () -> tests.get(1).getExecutable().execute());

    assertThat(failure).isNotNull();
    assertThat(failure.getExpected().getValue()).isEqualTo("allow");
    assertThat(failure.getActual().getValue()).isEqualTo("deny");
    assertThat(failure.getMessage())
        .startsWith("Case 'big refund' in " + dir.resolve("r.test.yaml") + " failed")
        .contains("\n  expected: allow\n  actual:   deny\n")
        .containsPattern("decision: deny, policy \"refunds\" \\(version [0-9a-f]{12}\\), rule"
            + " \"cap\", message \"Denied by rule \\\\\"cap\\\\\"\"")
        .contains("trace:\n    refunds / refund / \"cap\": DENIED - args.amount = 500 is not lte"
            + " 100");
  }

  @Test
  void testsMayRunInAnyOrderBecauseTheFileRunsOnceInOrder() throws Throwable {
    Files.writeString(dir.resolve("c.test.yaml"), """
        policy:
          version: "1"
          tools:
            refund:
              rules:
                - name: two
                  conditions: [{path: state.refund.n, op: lte, value: 2}]
                  state: {counter: n, window: day}
        cases:
          - {name: first, call: refund, expect: allow}
          - {name: second, call: refund, expect: allow}
          - {name: third, call: refund, expect: deny}
        """);
    List<DynamicTest> tests = tests(SafeRunTests.from(dir).findFirst().orElseThrow());

    tests.get(2).getExecutable().execute();
    tests.get(0).getExecutable().execute();
    tests.get(1).getExecutable().execute();
    tests.get(2).getExecutable().execute();
  }

  @Test
  void anInvalidFileBecomesOneFailingTestListingEveryProblem() throws IOException {
    Files.writeString(dir.resolve("bad.test.yaml"), """
        polcy: x.yaml
        cases: [{name: c, call: refund, expect: alow}]
        """);

    DynamicContainer container = SafeRunTests.from(dir).findFirst().orElseThrow();
    List<DynamicTest> tests = tests(container);

    assertThat(tests).singleElement().extracting(DynamicNode::getDisplayName)
        .isEqualTo("load bad.test.yaml");
    assertThatThrownBy(() -> tests.get(0).getExecutable().execute())
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("bad.test.yaml:1:1: unknown key 'polcy', did you mean 'policy'?")
        .hasMessageContaining("bad.test.yaml:2:")
        .hasMessageContaining("did you mean 'allow'?");
  }

  @Test
  void aMissingPathIsRefused() {
    assertThatThrownBy(() -> SafeRunTests.from(dir.resolve("nope").toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("No such file or directory")
        .hasMessageContaining("nope");
  }

  @Test
  void aDirectoryWithoutTestFilesIsRefusedRatherThanSilentlyPassing() {
    assertThatThrownBy(() -> SafeRunTests.from(dir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("No .test.yaml files found in");
  }
}
