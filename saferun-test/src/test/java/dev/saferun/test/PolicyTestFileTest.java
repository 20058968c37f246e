package dev.saferun.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.saferun.CallContext;
import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading and validating policy test files (SPEC §10): every problem at file:line:col. */
class PolicyTestFileTest {
  static final String INLINE_POLICY = """
      policy:
        version: "1"
        name: p
        tools:
          refund:
            rules:
              - name: cap
                conditions: [{path: args.amount, op: lte, value: 100}]
      """;

  @TempDir
  Path dir;

  PolicyTestFile parse(String yaml) {
    return PolicyTestFile.parse(yaml, "t.test.yaml", dir);
  }

  List<Problem> problems(String yaml) {
    PolicyConfigException e = catchThrowableOfType(PolicyConfigException.class,
        () -> parse(yaml));
    assertThat(e).as("expected the file to be rejected").isNotNull();
    return e.problems();
  }

  @Nested
  class ValidFiles {
    @Test
    void readsAnInlinePolicyAndItsCases() {
      PolicyTestFile file = parse(INLINE_POLICY + """
          cases:
            - name: small refund
              call: refund
              args: {amount: 5}
              expect: allow
            - advance: 1h
            - name: tools
              tools: [refund]
              expect_visible: [refund]
          """);

      assertThat(file.policies().policies()).extracting(p -> p.name()).containsExactly("p");
      assertThat(file.cases()).extracting(PolicyTestFile.Case::name)
          .containsExactly("small refund", "tools");
      assertThat(file.cases().get(0).location().line()).isEqualTo(10);
      assertThat(file.cases().get(0).location().source()).isEqualTo("t.test.yaml");
      assertThat(file.start()).isEqualTo(FakeClock.DEFAULT_START);
      assertThat(file.steps()).hasSize(3);
      assertThat(((Step.Advance) file.steps().get(1)).amount()).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void readsClockContextAndPrices() {
      PolicyTestFile file = parse(INLINE_POLICY + """
          clock: 2026-01-15T10:30:00Z
          context: {agent: support, tenant: 42}
          prices: {generate_image: 0.04}
          cases:
            - name: c
              call: refund
              context: {user: u1, agent: billing}
              expect: allow
          """);

      assertThat(file.start()).isEqualTo(Instant.parse("2026-01-15T10:30:00Z"));
      assertThat(file.context()).isEqualTo(CallContext.of("agent", "support", "tenant", "42"));
      assertThat(file.prices()).containsExactly(Map.entry("generate_image",
          new BigDecimal("0.04")));
      Step.Call call = (Step.Call) file.steps().get(0);
      assertThat(call.context().asMap()).containsExactlyInAnyOrderEntriesOf(Map.of(
          "agent", "billing", "tenant", "42", "user", "u1"));
    }

    @Test
    void resolvesPolicyPathsAgainstTheTestFilesDirectory() throws IOException {
      Files.createDirectories(dir.resolve("policies"));
      Files.writeString(dir.resolve("policies/a.yaml"), "version: \"1\"\ndefault: allow\n");
      Files.writeString(dir.resolve("b.yaml"), "version: \"1\"\nname: bee\n");
      Path test = dir.resolve("suite/set.test.yaml");
      Files.createDirectories(test.getParent());
      Files.writeString(test, """
          policy: [../policies/a.yaml, ../b.yaml, {version: "1", name: inline}]
          cases:
            - {name: c, call: x, expect: deny}
          """);

      PolicyTestFile file = PolicyTestFile.load(test);

      assertThat(file.policies().policies()).extracting(p -> p.name())
          .containsExactly("a", "bee", "inline");
      assertThat(file.source()).isEqualTo(test.toString());
    }

    @Test
    void namesUnnamedInlinePoliciesAfterTheTestFile() {
      PolicyTestFile single = PolicyTestFile.parse("policy: {version: \"1\"}\n"
          + "cases: [{name: c, call: x, expect: deny}]\n", "dir/refunds.test.yaml", dir);
      PolicyTestFile list = PolicyTestFile.parse("policy: [{version: \"1\"}, {version: \"1\"}]\n"
          + "cases: [{name: c, call: x, expect: deny}]\n", "dir/refunds.test.yaml", dir);

      assertThat(single.policies().policies().get(0).name()).isEqualTo("refunds");
      assertThat(list.policies().policies()).extracting(p -> p.name())
          .containsExactly("refunds#1", "refunds#2");
    }

    @Test
    void inlinePolicyVersionDependsOnThePolicyOnlyNotOnTheCases() {
      PolicyTestFile a = parse(INLINE_POLICY + "cases: [{name: one, call: refund, expect: allow}]");
      PolicyTestFile b = parse(INLINE_POLICY + "cases: [{name: two, call: x, expect: deny}]");

      String version = a.policies().policies().get(0).version();
      assertThat(version).hasSize(64).isEqualTo(b.policies().policies().get(0).version());
    }

    @Test
    void collectsPolicyWarnings() {
      PolicyTestFile file = parse("""
          policy:
            version: "1"
            hide: [x]
            tools:
              x:
          cases: [{name: c, call: x, expect: deny}]
          """);

      assertThat(file.warnings()).singleElement().asString()
          .contains("t.test.yaml:5:").contains("warning:").contains("hidden");
    }
  }

  @Nested
  class Arguments {
    String args(String yaml) {
      PolicyTestFile file = parse(INLINE_POLICY + "cases:\n  - name: c\n    call: refund\n"
          + "    args: " + yaml + "\n    expect: allow\n");
      return ((Step.Call) file.steps().get(0)).arguments();
    }

    @Test
    void anObjectBecomesAJsonObjectInDocumentOrder() {
      assertThat(args("{b: 1, a: {c: [x, true, null]}}"))
          .isEqualTo("{\"b\":1,\"a\":{\"c\":[\"x\",true,null]}}");
    }

    @Test
    void aListBecomesAJsonArray() {
      assertThat(args("[1, 2]")).isEqualTo("[1,2]");
    }

    @Test
    void scalarsBecomeJsonScalars() {
      assertThat(args("\"50\"")).isEqualTo("\"50\"");
      assertThat(args("50")).isEqualTo("50");
      assertThat(args("null")).isEqualTo("null");
      assertThat(args("yes")).isEqualTo("\"yes\"");
    }

    @Test
    void numbersAreWrittenExactly() {
      assertThat(args("{n: 0.30000000000000001}")).isEqualTo("{\"n\":0.30000000000000001}");
      assertThat(args("{n: 12345678901234567890}")).isEqualTo("{\"n\":12345678901234567890}");
      assertThat(args("{n: 50.0}")).isEqualTo("{\"n\":50.0}");
      assertThat(args("{n: 1e3}")).isEqualTo("{\"n\":1000}");
    }

    @Test
    void absentArgsMeanNoArguments() {
      PolicyTestFile file = parse(INLINE_POLICY
          + "cases: [{name: c, call: refund, expect: allow}]");

      assertThat(((Step.Call) file.steps().get(0)).arguments()).isNull();
    }

    @Test
    void argsJsonIsPassedVerbatim() {
      PolicyTestFile file = parse(INLINE_POLICY
          + "cases: [{name: c, call: refund, args_json: '{\"a\": 1', expect: deny}]");

      assertThat(((Step.Call) file.steps().get(0)).arguments()).isEqualTo("{\"a\": 1");
    }
  }

  @Nested
  class Approvals {
    Step.Approval approval(String yaml) {
      PolicyTestFile file = parse(INLINE_POLICY + "cases:\n  - name: c\n    call: refund\n"
          + "    approval: " + yaml + "\n    expect: allow\n");
      return ((Step.Call) file.steps().get(0)).approval();
    }

    @Test
    void readsEveryForm() {
      assertThat(approval("approve").kind()).isEqualTo(Step.Approval.Kind.APPROVE);
      assertThat(approval("deny").kind()).isEqualTo(Step.Approval.Kind.DENY);
      assertThat(approval("timeout").kind()).isEqualTo(Step.Approval.Kind.TIMEOUT);
      assertThat(approval("{approve: true, args: {amount: 15000}, by: alice}"))
          .isEqualTo(new Step.Approval(Step.Approval.Kind.APPROVE, "{\"amount\":15000}", "alice"));
      assertThat(approval("{approve: false}").kind()).isEqualTo(Step.Approval.Kind.DENY);
    }

    @Test
    void rejectsBadApprovals() {
      String base = INLINE_POLICY + "cases:\n  - name: c\n    call: refund\n    expect: allow\n"
          + "    approval: ";

      assertThat(problems(base + "aprove")).singleElement().extracting(Problem::message)
          .asString().contains("did you mean 'approve'?");
      assertThat(problems(base + "{approve: yes}")).singleElement().extracting(Problem::message)
          .asString().contains("approve must be true or false");
      assertThat(problems(base + "{by: alice}")).singleElement().extracting(Problem::message)
          .asString().contains("approval needs 'approve: true'");
      assertThat(problems(base + "{approve: false, args: {a: 1}}")).singleElement()
          .extracting(Problem::message).asString().contains("only make sense with approve: true");
      assertThat(problems(base + "{approve: true, reason: x}")).singleElement()
          .extracting(Problem::message).asString().contains("unknown key 'reason'");
    }
  }

  @Nested
  class Problems {
    @Test
    void unknownTopLevelKeyIsAnErrorWithLocationAndSuggestion() {
      List<Problem> problems = problems(INLINE_POLICY + """
          clok: 2026-01-15T10:30:00Z
          cases: [{name: c, call: refund, expect: allow}]
          """);

      assertThat(problems).singleElement().satisfies(p -> {
        assertThat(p.source()).isEqualTo("t.test.yaml");
        assertThat(p.line()).isEqualTo(9);
        assertThat(p.column()).isEqualTo(1);
        assertThat(p.message()).isEqualTo("unknown key 'clok', did you mean 'clock'?");
        assertThat(p.toString()).startsWith("t.test.yaml:9:1: unknown key 'clok'");
      });
    }

    @Test
    void unknownKeysInCasesAndExpectationsAreErrors() {
      List<Problem> problems = problems(INLINE_POLICY + """
          cases:
            - name: c
              call: refund
              arg: {amount: 1}
              expect: {decision: deny, rul: cap, mesage: x}
          """);

      assertThat(problems).extracting(Problem::message).containsExactly(
          "unknown key 'arg' in cases[0], did you mean 'args'?",
          "unknown key 'rul' in cases[0].expect, did you mean 'rule'?",
          "unknown key 'mesage' in cases[0].expect, did you mean 'message'?");
      assertThat(problems).extracting(Problem::line).containsExactly(12, 13, 13);
    }

    @Test
    void unknownKeyInAShadowExpectationIsAnError() {
      List<Problem> problems = problems(INLINE_POLICY + """
          cases:
            - {name: c, call: refund, expect: {decision: allow, shadow: {decision: deny, shadow: x}}}
          """);

      assertThat(problems).singleElement().extracting(Problem::message).asString()
          .startsWith("unknown key 'shadow' in cases[0].expect.shadow");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
      List<Problem> problems = problems("""
          clock: yesterday
          context: [a]
          prices: {x: -1}
          cases:
            - name: c
              call: refund
              repeat: 0
              expect: alow
            - advance: 1 week
            - name: d
            - tools: [a]
          """);

      assertThat(problems).extracting(Problem::message).containsExactly(
          "missing required key 'policy' (a policy file path, an inline policy or a list of"
              + " either)",
          "clock must be an instant like 2026-01-15T10:30:00Z, got 'yesterday'",
          "context must map attribute names to text, e.g. {agent: support}, got a list",
          "price of 'x' must be a number >= 0, got number -1",
          "cases[0].repeat must be a whole number from 1 to 1000000, got number 0"
              .replace("cases[0].repeat must", "repeat must"),
          "cases[0].expect must be allow, deny or hold, got 'alow', did you mean 'allow'?",
          "advance must be a duration like 90s, 15m, 24h or 7d (units ms, s, m, h, d), got"
              + " '1 week'",
          "case needs 'call' (a tool name) and 'expect', or 'tools' and 'expect_visible', or is"
              + " an 'advance' step",
          "case needs a 'name'",
          "tools needs 'expect_visible' (the tools the model should see)");
      assertThat(problems).allSatisfy(p -> assertThat(p.line()).isPositive());
    }

    @Test
    void aYamlSyntaxErrorHasALocation() {
      List<Problem> problems = problems("policy: {version: \"1\"\ncases: [");

      assertThat(problems).singleElement().satisfies(p -> {
        assertThat(p.line()).isPositive();
        assertThat(p.message()).startsWith("invalid YAML");
      });
    }

    @Test
    void theFileMustBeAMapping() {
      assertThat(problems("- a\n- b\n")).singleElement().extracting(Problem::message).asString()
          .contains("must be a mapping with 'policy' and 'cases'");
    }

    @Test
    void casesMustBeANonEmptyList() {
      assertThat(problems(INLINE_POLICY + "cases: []\n")).extracting(Problem::message)
          .containsExactly("cases is empty: a test file needs at least one case");
      assertThat(problems(INLINE_POLICY + "cases: {a: 1}\n")).extracting(Problem::message)
          .containsExactly("cases must be a list, got a mapping");
      assertThat(problems(INLINE_POLICY)).extracting(Problem::message)
          .containsExactly("missing required key 'cases' (a list of test cases)");
    }

    @Test
    void aFileWithOnlyAdvanceStepsTestsNothing() {
      assertThat(problems(INLINE_POLICY + "cases: [{advance: 1h}]\n")).extracting(Problem::message)
          .containsExactly("cases has only advance steps: nothing is tested");
    }

    @Test
    void aCaseNeedsAnExpectation() {
      assertThat(problems(INLINE_POLICY + "cases: [{name: c, call: refund}]\n"))
          .extracting(Problem::message).singleElement().asString()
          .startsWith("case 'c' needs 'expect'");
    }

    @Test
    void anExpectationMapNeedsADecision() {
      assertThat(problems(INLINE_POLICY
          + "cases: [{name: c, call: refund, expect: {rule: cap}}]\n"))
          .extracting(Problem::message)
          .containsExactly("cases[0].expect needs 'decision' (allow, deny or hold)");
    }

    @Test
    void anAdvanceStepTakesNoCall() {
      assertThat(problems(INLINE_POLICY
          + "cases: [{advance: 1h, call: refund}, {name: c, call: refund, expect: allow}]\n"))
          .extracting(Problem::message).singleElement().asString()
          .startsWith("an advance step moves the clock only: it takes no 'call'");
    }

    @Test
    void aVisibilityCaseMakesNoCall() {
      assertThat(problems(INLINE_POLICY + """
          cases: [{name: c, call: refund, tools: [a], expect_visible: [a]}]
          """)).extracting(Problem::message).singleElement().asString()
          .startsWith("a case with tools/expect_visible checks what the model sees and makes no"
              + " call: remove 'call'");
    }

    @Test
    void argsAndArgsJsonExcludeEachOther() {
      assertThat(problems(INLINE_POLICY
          + "cases: [{name: c, call: refund, args: {}, args_json: '{}', expect: allow}]\n"))
          .extracting(Problem::message).containsExactly("use args or args_json, not both");
    }

    @Test
    void aMissingPolicyFileIsReportedWhereItIsNamed() {
      List<Problem> problems = problems("""
          cases: [{name: c, call: refund, expect: allow}]
          policy: nowhere.yaml
          """);

      assertThat(problems).singleElement().satisfies(p -> {
        assertThat(p.line()).isEqualTo(2);
        assertThat(p.column()).isEqualTo(9);
        assertThat(p.message()).startsWith("policy file 'nowhere.yaml' not found");
      });
    }

    @Test
    void problemsInAPolicyFileAreReportedInThatFile() throws IOException {
      Files.writeString(dir.resolve("bad.yaml"), "version: \"1\"\ntools:\n  x:\n    rule: []\n");

      List<Problem> problems = problems("policy: bad.yaml\n"
          + "cases: [{name: c, call: x, expect: allow}]\n");

      assertThat(problems).singleElement().satisfies(p -> {
        assertThat(p.source()).isEqualTo(dir.resolve("bad.yaml").toString());
        assertThat(p.line()).isEqualTo(4);
        assertThat(p.message()).contains("unknown key 'rule'").contains("did you mean 'rules'?");
      });
    }

    @Test
    void problemsInAnInlinePolicyAreReportedInTheTestFile() {
      List<Problem> problems = problems("""
          policy:
            version: "1"
            tools:
              refund:
                rules:
                  - name: cap
                    conditions: [{path: args.amount, op: lt_eq, value: 1}]
          cases: [{name: c, call: refund, expect: allow}]
          """);

      assertThat(problems).singleElement().satisfies(p -> {
        assertThat(p.source()).isEqualTo("t.test.yaml");
        assertThat(p.line()).isEqualTo(7);
        assertThat(p.message()).contains("unknown operator 'lt_eq'");
      });
    }

    @Test
    void aSpendRuleWithoutAPriceIsALoadError() {
      List<Problem> problems = problems("""
          policy:
            version: "1"
            tools:
              generate_image:
                rules:
                  - name: budget
                    spend: {daily: 1}
          cases: [{name: c, call: generate_image, expect: allow}]
          """);

      assertThat(problems).singleElement().extracting(Problem::message).asString()
          .contains("no price is registered for tool 'generate_image'");
    }

    @Test
    void policyMustBeAPathAMappingOrAList() {
      assertThat(problems("policy: 5\ncases: [{name: c, call: x, expect: deny}]\n"))
          .extracting(Problem::message).singleElement().asString()
          .startsWith("policy must be a file path, an inline policy mapping or a list");
      assertThat(problems("policy: []\ncases: [{name: c, call: x, expect: deny}]\n"))
          .extracting(Problem::message)
          .containsExactly("policy is an empty list: give at least one policy");
    }

    @Test
    void contextValuesMustBeScalars() {
      assertThat(problems(INLINE_POLICY
          + "context: {agent: [a]}\ncases: [{name: c, call: refund, expect: allow}]\n"))
          .extracting(Problem::message)
          .containsExactly("context attribute 'agent' must be text, got a list");
    }

    @Test
    void aBadRepeatIsRejected() {
      String base = INLINE_POLICY + "cases: [{name: c, call: refund, expect: allow, repeat: ";

      assertThat(problems(base + "1.5}]")).singleElement().extracting(Problem::message)
          .asString().contains("got number 1.5");
      assertThat(problems(base + "many}]")).singleElement().extracting(Problem::message)
          .asString().contains("got 'many'");
      assertThat(problems(base + "1000001}]")).singleElement().extracting(Problem::message)
          .asString().contains("from 1 to 1000000");
    }
  }

  @Nested
  class Loading {
    @Test
    void aMissingFileIsAProblem() {
      PolicyConfigException e = catchThrowableOfType(PolicyConfigException.class,
          () -> PolicyTestFile.load(dir.resolve("none.test.yaml")));

      assertThat(e.problems()).singleElement().extracting(Problem::message)
          .isEqualTo("no such file");
    }

    @Test
    void aFileThatIsNotUtf8IsAProblem() throws IOException {
      Path f = dir.resolve("bin.test.yaml");
      Files.write(f, new byte[] {(byte) 0xff, (byte) 0xfe, 0x41});

      PolicyConfigException e = catchThrowableOfType(PolicyConfigException.class,
          () -> PolicyTestFile.load(f));

      assertThat(e.problems()).singleElement().extracting(Problem::message)
          .isEqualTo("test file is not valid UTF-8");
    }
  }

  @Nested
  class Discovery {
    @Test
    void findsTestFilesRecursivelySorted() throws IOException {
      Files.createDirectories(dir.resolve("b/c"));
      Files.writeString(dir.resolve("b/c/z.test.yaml"), "");
      Files.writeString(dir.resolve("b/a.test.yaml"), "");
      Files.writeString(dir.resolve("m.test.yaml"), "");
      Files.writeString(dir.resolve("policy.yaml"), "");
      Files.writeString(dir.resolve("notes.test.yml"), "");

      List<Path> files = PolicyTestFile.discover(List.of(dir));

      assertThat(files).containsExactly(dir.resolve("b/a.test.yaml"),
          dir.resolve("b/c/z.test.yaml"), dir.resolve("m.test.yaml"));
    }

    @Test
    void aFileStandsForItselfAndDuplicatesAreDropped() throws IOException {
      Path plain = Files.writeString(dir.resolve("checks.yaml"), "");
      Path test = Files.writeString(dir.resolve("a.test.yaml"), "");

      assertThat(PolicyTestFile.discover(List.of(plain, dir, test)))
          .containsExactly(plain, test);
    }

    @Test
    void aMissingPathIsAnError() {
      NoSuchFileException e = catchThrowableOfType(NoSuchFileException.class,
          () -> PolicyTestFile.discover(List.of(dir.resolve("nope"))));

      assertThat(e.getFile()).endsWith("nope");
    }
  }
}
