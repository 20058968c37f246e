package dev.saferun.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.ToolExecutor;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's examples, compiled and run. The Java example below and the YAML file it loads are
 * the README's code blocks verbatim; the first two tests fail if the README and this code drift.
 * Surefire runs this module's tests in {@code src/test/resources/readme}, where the YAML is.
 */
class ReadmeExamplesTest {
  private static final Path README = Markdown.root().resolve("README.md");
  private static final Path THIS_SOURCE = Markdown.moduleDir()
      .resolve("src/test/java/dev/saferun/examples/quickstart/ReadmeExamplesTest.java");
  private static final Path README_YAML = Markdown.moduleDir()
      .resolve("src/test/resources/readme/support-agent.yaml");

  /** Stands for the host's own payment code in the README example. */
  static final class Payments {
    final List<String> refunds = new ArrayList<>();

    String refund(String argumentsJson) {
      refunds.add(argumentsJson);
      return "refund issued";
    }
  }

  private final Payments payments = new Payments();

  @Test
  void readmeJavaBlocksAreTheCodeThisTestRuns() throws Exception {
    List<String> readme = new ArrayList<>();
    for (Markdown.Block b : Markdown.blocks(README, "java")) {
      readme.add(b.text());
    }
    assertThat(readme).as("```java blocks of README.md vs // README-BEGIN regions of %s",
        THIS_SOURCE.getFileName()).isEqualTo(Markdown.marked(THIS_SOURCE, "README"));
  }

  @Test
  void readmeYamlBlockIsThePolicyFileTheJavaExampleLoads() throws Exception {
    List<Markdown.Block> yaml = Markdown.blocks(README, "yaml");
    assertThat(yaml).hasSize(1);
    assertThat(yaml.get(0).text()).isEqualTo(Files.readString(README_YAML));
  }

  @Test
  void readmeYamlLoadsWithoutProblems() throws Exception {
    String yaml = Markdown.blocks(README, "yaml").get(0).text();
    assertThat(PolicyLoader.loadString(yaml, "support-agent.yaml").warnings()).isEmpty();
  }

  @Test
  void readmeJavaExampleRunsAsItsCommentsSay() throws Exception {
    // README-BEGIN
    SafeRun safeRun = SafeRun.builder()
        .policies(PolicySet.load(Path.of("support-agent.yaml")))
        .onPause(request -> System.out.println("Approval needed: " + request))
        .build();
    ToolExecutor refunds = safeRun.wrap(call -> payments.refund(call.arguments()));

    String ok = refunds.execute(ToolCall.of("create_refund", "{\"amount\": 40}"));
    // ok is what payments.refund returned
    String no = refunds.execute(ToolCall.of("create_refund", "{\"amount\": 900}"));
    // no is "[SAFERUN POLICY DENIED] A single refund cannot exceed $500.00": the tool did not run

    Decision d = safeRun.evaluate(ToolCall.of("delete_customer", "{\"id\": \"cus_1\"}"));
    // d.isDenied() is true; d.message() is "Tool \"delete_customer\" is hidden by policy"
    // README-END

    assertThat(ok).isEqualTo("refund issued");
    assertThat(no).isEqualTo("[SAFERUN POLICY DENIED] A single refund cannot exceed $500.00");
    assertThat(payments.refunds).containsExactly("{\"amount\": 40}");
    assertThat(d.isDenied()).isTrue();
    assertThat(d.message()).isEqualTo("Tool \"delete_customer\" is hidden by policy");
  }
}
