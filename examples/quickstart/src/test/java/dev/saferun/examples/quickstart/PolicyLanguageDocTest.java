package dev.saferun.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.PolicyConfigException;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.test.FakeClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs the examples of {@code docs/policy-language.md}, so the reference cannot drift from what
 * SafeRun does.
 *
 * <ul>
 *   <li>Every {@code ```yaml} block is a whole policy file (several, separated by {@code ---},
 *       make an ordered policy set) and must load without problems. A block with a
 *       {@code # error: <text>} line must fail to load with a problem containing the text; one
 *       with {@code # warning: <text>} lines must load with those warnings. Blocks marked
 *       {@code ```yaml fragment} are parts of a file and are not loaded.
 *   <li>Every {@code ```text calls} block is run, in a fresh SafeRun with fresh counters on a
 *       clock starting at 2026-01-15T10:30:00Z, against the yaml block above it. Each line is
 *       {@code [context] tool arguments [xN] -> outcome[: message]}; {@code wait <duration>}
 *       moves the clock and {@code price <tool> <amount>} registers a price. After a call that
 *       was held, {@code approve [edited arguments] -> …} approves the request (as "reviewer")
 *       and {@code reject -> …} denies it (reason "not needed"); the expected outcome is the
 *       final decision for the held call ({@code SafeRun.resume}).
 * </ul>
 */
class PolicyLanguageDocTest {
  private static final Path DOC = Markdown.root().resolve("docs/policy-language.md");
  private static final Pattern APPROVAL = Pattern.compile(
      "^(?<verb>approve|reject)(?<args>.*?)\\s+->\\s+(?<outcome>allow|deny|hold)"
          + "(?::\\s(?<msg>.*))?$");
  private static final Pattern CALL = Pattern.compile(
      "^(?:\\[(?<ctx>[^\\]]*)\\]\\s+)?(?<tool>[A-Za-z0-9_.-]+)(?<args>.*?)"
          + "(?:\\s+x(?<n>\\d+))?\\s+->\\s+(?<outcome>allow|deny|hold)"
          + "(?:\\s+\\(shadow (?<shadow>allow|deny|hold)\\))?(?::\\s(?<msg>.*))?$");

  @TestFactory
  Stream<DynamicTest> everyExampleInTheReferenceBehavesAsWritten() throws Exception {
    List<DynamicTest> tests = new ArrayList<>();
    Markdown.Block policy = null;
    for (Markdown.Block b : Markdown.blocks(DOC)) {
      if (b.info().equals("yaml")) {
        policy = b;
        Markdown.Block yaml = b;
        tests.add(DynamicTest.dynamicTest("yaml at line " + b.line(), () -> checkLoads(yaml)));
      } else if (b.info().equals("text calls")) {
        assertThat(policy).as("a calls block at line %d needs a yaml block above it", b.line())
            .isNotNull();
        Markdown.Block yaml = policy;
        tests.add(DynamicTest.dynamicTest("calls at line " + b.line() + " against yaml at line "
            + yaml.line(), () -> runCalls(yaml, b)));
      }
    }
    return tests.stream();
  }

  @Test
  void theReferenceHasRunnableExamples() throws Exception {
    long calls = Markdown.blocks(DOC).stream().filter(b -> b.info().equals("text calls")).count();
    assertThat(calls).isGreaterThanOrEqualTo(10);
  }

  @Test
  void theReferenceJavaBlocksAreTheCodeThisTestRuns() throws Exception {
    List<String> doc = new ArrayList<>();
    for (Markdown.Block b : Markdown.blocks(DOC, "java")) {
      doc.add(b.text());
    }
    Path self = Markdown.moduleDir()
        .resolve("src/test/java/dev/saferun/examples/quickstart/PolicyLanguageDocTest.java");
    assertThat(doc).as("```java blocks of %s vs // DOCS-BEGIN regions of %s", DOC.getFileName(),
        self.getFileName()).isEqualTo(Markdown.marked(self, "DOCS"));
  }

  @Test
  void tryingAPolicyInJava() throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      // DOCS-BEGIN
      SafeRun safeRun = SafeRun.builder()
          .policies(PolicySet.load(Path.of("support-agent.yaml")))
          .build();
      Decision d = safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\": 40}"));
      System.out.println(d.outcome() + " " + d.rule() + ": " + d.message());
      // DOCS-END
    } finally {
      System.setOut(stdout);
    }
    assertThat(printed.toString(StandardCharsets.UTF_8)).isEqualTo("ALLOW null: Allowed"
        + System.lineSeparator());
  }

  @Test
  void aCallWithAContext() {
    SafeRun safeRun = SafeRun.builder().policies(PolicyLoader.loadString("version: \"1\"\n"
        + "match: {agent: support}\ntools:\n  create_refund:\n    rules:\n      - name: u1 only\n"
        + "        conditions: [{path: context.user, op: eq, value: u1}]\n", "ctx.yaml")).build();

    // DOCS-BEGIN
    CallContext ctx = CallContext.of("agent", "support", "environment", "prod", "user", "u1");
    safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\": 40}", ctx));
    // DOCS-END

    assertThat(safeRun.evaluate(ToolCall.of("create_refund", "{}", ctx)).isAllowed()).isTrue();
  }

  /** Stands for the host's paging system in the approvals example. */
  static final class Pager {
    final List<String> notified = new ArrayList<>();

    void notify(String id, String tool, String arguments) {
      notified.add(id + " " + tool + " " + arguments);
    }
  }

  @Test
  void approvalRequestsGoToOnPause() {
    PolicySet policies = PolicySet.of(PolicyLoader.loadString("version: \"1\"\n"
        + "redact: [args.card]\ntools:\n  create_refund:\n    rules:\n"
        + "      - name: human\n        action: require_approval\n", "approvals.yaml"));
    Pager pager = new Pager();

    // DOCS-BEGIN
    SafeRun safeRun = SafeRun.builder()
        .policies(policies)
        .onPause(request -> pager.notify(request.id(), request.tool(), request.redactedArguments()))
        .build();
    // DOCS-END

    Decision d = safeRun.evaluate(ToolCall.of("create_refund", "{\"card\": \"4111\"}"));
    assertThat(d.isHeld()).isTrue();
    assertThat(d.toModelText()).isEqualTo("[SAFERUN APPROVAL REQUIRED] Approval required by rule"
        + " \"human\" (approval " + d.approval().id() + ")");
    assertThat(pager.notified).containsExactly(d.approval().id()
        + " create_refund {\"card\":\"***\"}");
  }

  private static List<String> documents(String yaml) {
    List<String> docs = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : yaml.split("\n", -1)) {
      if (line.equals("---")) {
        docs.add(cur.toString());
        cur = new StringBuilder();
      } else {
        cur.append(line).append('\n');
      }
    }
    docs.add(cur.toString());
    return docs;
  }

  private static List<String> marks(String yaml, String kind) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("#\\s*" + kind + ":\\s*(.+)$", Pattern.MULTILINE).matcher(yaml);
    while (m.find()) {
      out.add(m.group(1).trim());
    }
    return out;
  }

  private static PolicySet load(Markdown.Block yaml) {
    List<Policy> policies = new ArrayList<>();
    int i = 0;
    for (String doc : documents(yaml.text())) {
      policies.add(PolicyLoader.loadString(doc, "example" + (i++ == 0 ? "" : i) + ".yaml"));
    }
    return PolicySet.of(policies);
  }

  private static void checkLoads(Markdown.Block yaml) {
    List<String> errors = marks(yaml.text(), "error");
    List<String> warnings = marks(yaml.text(), "warning");
    if (!errors.isEmpty()) {
      PolicyConfigException e = catchThrowableOfType(PolicyConfigException.class,
          () -> load(yaml));
      assertThat(e).as("yaml at line %d should fail to load", yaml.line()).isNotNull();
      for (String text : errors) {
        assertThat(e.getMessage()).contains(text);
      }
      return;
    }
    PolicySet set = load(yaml);
    List<String> found = new ArrayList<>();
    set.policies().forEach(p -> found.addAll(p.warnings()));
    if (warnings.isEmpty()) {
      assertThat(found).as("warnings of yaml at line %d", yaml.line()).isEmpty();
    } else {
      for (String text : warnings) {
        assertThat(String.join("\n", found)).contains(text);
      }
    }
  }

  private static void runCalls(Markdown.Block yaml, Markdown.Block calls) {
    PolicySet set = load(yaml);
    FakeClock clock = FakeClock.at("2026-01-15T10:30:00Z");
    Map<String, BigDecimal> prices = new LinkedHashMap<>();
    SafeRun safeRun = null;
    String lastHold = null;
    int lineNo = calls.line();
    for (String raw : calls.text().split("\n")) {
      lineNo++;
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = "docs/policy-language.md:" + lineNo + ": " + line;
      if (line.startsWith("wait ")) {
        clock.advance(duration(line.substring(5).trim()));
        continue;
      }
      if (line.startsWith("price ")) {
        String[] p = line.split("\\s+");
        prices.put(p[1], new BigDecimal(p[2]));
        continue;
      }
      Matcher a = APPROVAL.matcher(line);
      if (a.matches()) {
        assertThat(lastHold).as("%s needs a held call before it", where).isNotNull();
        String edited = a.group("args").strip();
        if (a.group("verb").equals("reject")) {
          safeRun.approvals().deny(lastHold, "reviewer", "not needed");
        } else if (edited.isEmpty()) {
          safeRun.approvals().approve(lastHold, "reviewer");
        } else {
          safeRun.approvals().approve(lastHold, "reviewer", edited);
        }
        Decision d = safeRun.resume(lastHold).decision();
        lastHold = null;
        assertThat(d.outcome().name().toLowerCase(Locale.ROOT)).as("outcome of %s (message: %s)",
            where, d.message()).isEqualTo(a.group("outcome"));
        if (a.group("msg") != null) {
          assertThat(d.message()).as("message of %s", where).isEqualTo(a.group("msg"));
        }
        continue;
      }
      Matcher m = CALL.matcher(line);
      assertThat(m.matches()).as("not a call line: %s", where).isTrue();
      if (safeRun == null) {
        safeRun = SafeRun.builder().policies(set).clock(clock).prices(prices)
            .auditSink(AuditSink.NONE).build();
      }
      CallContext ctx = CallContext.empty();
      if (m.group("ctx") != null) {
        for (String kv : m.group("ctx").split(",")) {
          String[] p = kv.trim().split("=", 2);
          ctx = ctx.with(p[0], p[1]);
        }
      }
      String args = m.group("args").strip();
      int n = m.group("n") == null ? 1 : Integer.parseInt(m.group("n"));
      for (int i = 0; i < n; i++) {
        Decision d = safeRun.evaluate(ToolCall.of(m.group("tool"), args.isEmpty() ? null : args,
            ctx));
        lastHold = d.isHeld() && d.approval() != null ? d.approval().id() : null;
        String call = where + (n > 1 ? " (call " + (i + 1) + " of " + n + ")" : "");
        assertThat(d.outcome().name().toLowerCase(Locale.ROOT)).as("outcome of %s (message: %s)",
            call, d.message()).isEqualTo(m.group("outcome"));
        if (m.group("msg") != null) {
          assertThat(d.message()).as("message of %s", call).isEqualTo(m.group("msg"));
        }
        if (m.group("shadow") != null) {
          assertThat(d.shadow()).as("shadow verdict of %s", call).isNotNull();
          assertThat(d.shadow().outcome().name().toLowerCase(Locale.ROOT))
              .as("shadow outcome of %s", call).isEqualTo(m.group("shadow"));
        }
      }
    }
  }

  private static Duration duration(String text) {
    Matcher m = Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(text);
    assertThat(m.matches()).as("duration %s", text).isTrue();
    long n = Long.parseLong(m.group(1));
    switch (m.group(2)) {
      case "ms":
        return Duration.ofMillis(n);
      case "s":
        return Duration.ofSeconds(n);
      case "m":
        return Duration.ofMinutes(n);
      case "h":
        return Duration.ofHours(n);
      default:
        return Duration.ofDays(n);
    }
  }
}
