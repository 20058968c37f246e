package dev.saferun.test.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.policy.PolicySet;
import dev.saferun.test.FakeClock;
import dev.saferun.test.PolicyTester;
import dev.saferun.test.RecordingAuditSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/testing-policies.md, checked against what runs. Its {@code ```java} blocks are the
 * {@code // DOCS-BEGIN} regions of the test sources listed in {@link #SOURCES}, in order (so the
 * classes shown are the classes Surefire runs); its {@code ```yaml file=src/test/policies/…}
 * blocks are this module's policy and test files (run by {@code PolicyFilesTest}); its failure
 * message is the one an assertion produces. The commands and their output are checked in
 * saferun-cli ({@code TestingPoliciesCliDocTest}).
 */
class TestingPoliciesDocTest {
  static final Path DOC = Markdown.doc("testing-policies.md");
  static final Path TESTS = Path.of("src/test/java/dev/saferun/test");
  static final List<Path> SOURCES = List.of(
      TESTS.resolve("PolicyFilesTest.java"),
      TESTS.resolve("examples/RefundPolicyTest.java"),
      TESTS.resolve("examples/TestingPoliciesDocTest.java"),
      TESTS.resolve("examples/InMemoryStateStoreTest.java"));

  @Test
  void theJavaBlocksAreTheCodeTheBuildRuns() throws Exception {
    List<String> doc = new ArrayList<>();
    for (Markdown.Block b : Markdown.blocks(DOC, "java")) {
      doc.add(b.text());
    }
    List<String> code = new ArrayList<>();
    for (Path source : SOURCES) {
      code.addAll(Markdown.marked(source, "DOCS"));
    }

    assertThat(doc).as("```java blocks of %s vs the // DOCS-BEGIN regions of %s", DOC, SOURCES)
        .isEqualTo(code);
  }

  @Test
  void theTestFilesShownAreThisModulesPolicyFiles() throws Exception {
    int checked = 0;
    for (Markdown.Block b : Markdown.blocks(DOC, "yaml")) {
      String file = b.attribute("file");
      if (file != null && file.startsWith("src/test/policies/")) {
        assertThat(Files.readString(Path.of(file))).as("%s vs the block at %s:%d", file, DOC,
            b.line()).isEqualTo(b.text());
        checked++;
      }
    }
    assertThat(checked).as("refunds.yaml and refunds.test.yaml are shown").isEqualTo(2);
  }

  @Test
  void aFailedAssertionReadsAsTheDocSays() throws Exception {
    PolicyTester tester = PolicyTester.load(Path.of("src/test/policies/refunds.yaml"))
        .clock(FakeClock.at("2026-01-15T10:30:00Z"))
        .context("agent", "support", "user", "u1");

    AssertionError e = catchThrowableOfType(AssertionError.class, () -> {
      // DOCS-BEGIN
      tester.call("create_refund", "{\"amount\": 60000}").isAllowed();
      // DOCS-END
    });

    String shown = Markdown.blocks(DOC).stream().filter(b -> b.info().equals("text assertion"))
        .findFirst().orElseThrow().text();
    assertThat(e.getMessage() + "\n").isEqualTo(shown);
  }

  @Test
  void aRecordingAuditSinkKeepsEveryDecisionInOrder() throws Exception {
    // DOCS-BEGIN
    RecordingAuditSink audit = new RecordingAuditSink();
    SafeRun safeRun = SafeRun.builder()
        .policies(PolicySet.load(Path.of("src/test/policies/refunds.yaml")))
        .clock(new FakeClock())
        .auditSink(audit)
        .build();

    safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\": 60000}"));
    safeRun.evaluate(ToolCall.of("list_orders", "{}"));

    assertThat(audit.summaries()).containsExactly(
        "DENIED create_refund rule=\"hard limit\"",
        "ALLOWED list_orders");
    // DOCS-END
  }

  @Test
  void theDependencyVersionIsThisBuildsVersion() throws Exception {
    Matcher pom = Pattern.compile("<version>([^<]+)</version>").matcher(
        Files.readString(Path.of("pom.xml")));
    assertThat(pom.find()).isTrue();
    String xml = Markdown.blocks(DOC, "xml").get(0).text();

    assertThat(xml).contains("<artifactId>saferun-test</artifactId>")
        .contains("<version>" + pom.group(1) + "</version>");
  }

  @Test
  void relativeLinksResolve() throws Exception {
    Matcher m = Pattern.compile("\\]\\(([^)\\s]+)\\)").matcher(Files.readString(DOC));
    while (m.find()) {
      String link = m.group(1);
      if (link.startsWith("http://") || link.startsWith("https://")) {
        continue;
      }
      int hash = link.indexOf('#');
      Path target = DOC.getParent().resolve(hash < 0 ? link : link.substring(0, hash));
      assertThat(target).as("link %s", link).exists();
      if (hash >= 0) {
        assertThat(Markdown.anchors(target)).as("anchor of link %s", link)
            .contains(link.substring(hash + 1));
      }
    }
  }
}
