package dev.saferun.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.saferun.CallContext;
import dev.saferun.Execution;
import dev.saferun.PolicySource;
import dev.saferun.SafeRun;
import dev.saferun.SecretToolExecutor;
import dev.saferun.ToolCall;
import dev.saferun.ToolExecutor;
import dev.saferun.approval.ApprovalHttpHandler;
import dev.saferun.approval.ApprovalRecord;
import dev.saferun.approval.SlackNotifier;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.spi.SecretResolver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the examples of {@code docs/approvals.md} and {@code docs/operations.md}: every YAML block
 * loads as a policy, and every Java block appears word for word in this file, where it runs.
 */
class OperationsDocsTest {
  private static final Path APPROVALS = Markdown.root().resolve("docs/approvals.md");
  private static final Path OPERATIONS = Markdown.root().resolve("docs/operations.md");

  @TempDir
  Path tmp;

  @Test
  void everyYamlBlockLoads() throws Exception {
    for (Path doc : List.of(APPROVALS, OPERATIONS)) {
      for (Markdown.Block b : Markdown.blocks(doc)) {
        if (b.language().equals("yaml")) {
          PolicyLoader.loadString(b.text(), doc.getFileName() + ":" + b.line());
        }
      }
    }
  }

  @Test
  void everyJavaBlockIsInThisTestWordForWord() throws Exception {
    String self = squash(Files.readString(Markdown.moduleDir().resolve(
        "src/test/java/dev/saferun/examples/quickstart/OperationsDocsTest.java")));
    int count = 0;
    for (Path doc : List.of(APPROVALS, OPERATIONS)) {
      for (Markdown.Block b : Markdown.blocks(doc)) {
        if (b.language().equals("java")) {
          count++;
          assertThat(self).as(doc.getFileName() + ":" + b.line()).contains(squash(b.text()));
        }
      }
    }
    assertThat(count).isEqualTo(5);
  }

  private static String squash(String s) {
    return s.replaceAll("\\s+", " ").trim();
  }

  private Path refundsPolicy() throws Exception {
    String yaml = Markdown.blocks(APPROVALS).stream().filter(b -> b.language().equals("yaml"))
        .findFirst().orElseThrow().text().replace("mode: wait", "mode: defer");
    Path f = tmp.resolve("refunds.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void approvalsWiringAndHostRunApprovedCall() throws Exception {
    Path policyFile = refundsPolicy();
    HttpServer slack = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    slack.createContext("/hook", ex -> {
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    slack.start();
    URI slackWebhook = URI.create("http://127.0.0.1:" + slack.getAddress().getPort() + "/hook");
    String approvalToken = "doc-test-token-0123456789";
    List<String> ran = new ArrayList<>();
    ToolExecutor refundTool = call -> {
      ran.add(call.arguments());
      return "refunded";
    };

    SafeRun safeRun = SafeRun.builder()
        .policies(PolicySet.load(policyFile))
        .onPause(SlackNotifier.of(slackWebhook))
        .build();
    HttpServer approvalApi = ApprovalHttpHandler.start(
        new InetSocketAddress("127.0.0.1", 0), safeRun.approvals(), approvalToken);

    assertThat(safeRun.execute(ToolCall.of("create_refund", "{\"amount\": 8000}",
        CallContext.of("user", "u1")), refundTool)).startsWith("[SAFERUN APPROVAL REQUIRED]");

    ApprovalRecord pending = safeRun.approvals().pending().get(0);
    safeRun.approvals().approve(pending.id(), "alice", "{\"amount\": 6000}");
    Execution done = safeRun.runApproved(pending.id(), refundTool);

    assertThat(done.ran()).isTrue();
    assertThat(ran).containsExactly("{\"amount\":6000}");
    approvalApi.stop(0);
    slack.stop(0);
  }

  /** Stands in for an on-call pager. */
  static final class Pager {
    final List<String> warnings = new ArrayList<>();

    void warn(String message) {
      warnings.add(message);
    }
  }

  @Test
  void hotReloadSnippet() throws Exception {
    Path policyDir = Files.createDirectories(tmp.resolve("policies"));
    Files.copy(refundsPolicy(), policyDir.resolve("refunds.yaml"));
    SafeRun safeRun = SafeRun.builder().policies(PolicySource.load(List.of(policyDir))).build();
    Pager pager = new Pager();

    PolicySource source = PolicySource.builder(safeRun, policyDir)
        .onError(problems -> pager.warn("policy reload rejected: " + problems.get(0)))
        .start();

    Files.writeString(policyDir.resolve("broken.yaml"), "version: \"1\"\ntool: {}\n");
    assertThat(source.reloadNow()).isNotEmpty();
    assertThat(pager.warnings).singleElement().asString().contains("broken.yaml:2:1")
        .contains("unknown key 'tool'");
    source.close();
  }

  /** Stands in for a payment client. */
  static final class Stripe {
    String lastKey;

    String charge(String arguments, String key) {
      lastKey = key;
      return "charged " + arguments + " with " + key;
    }
  }

  @Test
  void credentialsSnippet() throws Exception {
    Path policyFile = tmp.resolve("charge.yaml");
    Files.writeString(policyFile, "version: \"1\"\ntools:\n  charge:\n    rules: []\n");
    Path secretsDir = Files.createDirectories(tmp.resolve("secrets"));
    Files.writeString(secretsDir.resolve("STRIPE_KEY"), "sk_test_docs_0123456789\n");
    Stripe stripe = new Stripe();

    SafeRun withSecrets = SafeRun.builder()
        .policies(PolicySet.load(policyFile))
        .secrets(SecretResolver.files(secretsDir))   // or SecretResolver.env()
        .maskSecrets("STRIPE_KEY")
        .build();
    ToolExecutor charge = withSecrets.wrap((SecretToolExecutor) (call, secrets) ->
        stripe.charge(call.arguments(), secrets.get("STRIPE_KEY")));

    assertThat(charge.execute(ToolCall.of("charge", "{\"amount\":5}")))
        .isEqualTo("charged {\"amount\":5} with ***");
    assertThat(stripe.lastKey).isEqualTo("sk_test_docs_0123456789");
  }

  @Test
  void killSwitchSnippet() throws Exception {
    SafeRun safeRun = SafeRun.builder().policies(PolicySet.of(PolicyLoader.loadString(
        "version: \"1\"\ndefault: allow\ntools: {}\n", "open.yaml"))).build();

    safeRun.killSwitch().engageAll("incident 42: refund storm", "oncall-alice");
    safeRun.killSwitch().engage(Set.of("create_refund"), Set.of("support-agent"), "refunds only", "oncall-bob");
    safeRun.killSwitch().release("oncall-bob");

    assertThat(safeRun.evaluate(ToolCall.of("create_refund", "{}")).isAllowed()).isTrue();
  }
}
