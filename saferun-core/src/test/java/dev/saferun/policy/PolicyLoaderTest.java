package dev.saferun.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SPEC §1–4 as seen by the loader: every error reported at file:line:col with its key. */
class PolicyLoaderTest {

  private static List<Problem> problems(String yaml) {
    try {
      PolicyLoader.loadString(yaml, "bad.yaml");
    } catch (PolicyConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected the policy to be rejected");
  }

  private static List<Problem> errors(String yaml) {
    return problems(yaml).stream().filter(p -> !p.warning()).toList();
  }

  @Test
  void loadsTheFullSpecExample() {
    Policy p = PolicyLoader.loadString(String.join("\n",
        "version: \"1\"",
        "name: support-agent",
        "description: \"Customer support agent -- Stripe\"",
        "default: deny",
        "mode: enforce",
        "match:",
        "  agent: [support]",
        "  environment: [prod, staging]",
        "hide: [delete_customer]",
        "hide_unlisted: false",
        "redact: [args.card_number]",
        "approvals:",
        "  default_timeout: 15m",
        "  on_timeout: deny",
        "  mode: wait",
        "tools:",
        "  create_refund:",
        "    rules:",
        "      - name: max single refund",
        "        conditions: [{path: args.amount, op: lte, value: 5000}]",
        "        on_deny: Single refund cannot exceed $50.00",
        "  list_customers:",
        "    rules: []",
        "  \"*\":",
        "    rules:",
        "      - name: global",
        "        rate_limit: 60/minute",
        ""), "support.yaml");
    assertThat(p.name()).isEqualTo("support-agent");
    assertThat(p.defaultAllow()).isFalse();
    assertThat(p.match()).containsEntry("environment", List.of("prod", "staging"));
    assertThat(p.hide()).containsExactly("delete_customer");
    assertThat(p.redact()).containsExactly("args.card_number");
    assertThat(p.approvals().defaultTimeout()).isEqualTo(Duration.ofMinutes(15));
    assertThat(p.tools()).containsOnlyKeys("create_refund", "list_customers");
    assertThat(p.allToolsRules()).singleElement().satisfies(r -> {
      assertThat(r.rateLimit().limit()).isEqualTo(60);
      assertThat(r.counter().qualifiedName()).isEqualTo("_global._rate_minute");
    });
    assertThat(p.version()).hasSize(64);
  }

  @Test
  void versionIsTheSha256OfTheFileBytes(@TempDir Path dir) throws Exception {
    String yaml = "version: \"1\"\ntools: {}\n";
    Path f = dir.resolve("a.yaml");
    Files.writeString(f, yaml);
    Policy p = PolicyLoader.load(f);
    assertThat(p.name()).isEqualTo("a");
    assertThat(p.version()).isEqualTo(java.util.HexFormat.of().formatHex(
        java.security.MessageDigest.getInstance("SHA-256")
            .digest(yaml.getBytes(StandardCharsets.UTF_8))));
    assertThat(p.source()).isEqualTo(f.toString());
  }

  @Test
  void integerVersionOneIsAccepted() {
    assertThat(PolicyLoader.loadString("version: 1\n", "v.yaml").name()).isEqualTo("v");
  }

  @Test
  void unknownKeysAreErrorsWithLocationAndSuggestion() {
    List<Problem> ps = errors(String.join("\n",
        "version: \"1\"",
        "tool:",
        "  x: {}",
        ""));
    assertThat(ps).singleElement().satisfies(p -> {
      assertThat(p.line()).isEqualTo(2);
      assertThat(p.column()).isEqualTo(1);
      assertThat(p.message()).isEqualTo("unknown key 'tool', did you mean 'tools'?");
      assertThat(p.toString()).startsWith("bad.yaml:2:1: unknown key 'tool'");
    });
  }

  @Test
  void everyProblemIsReportedInOnePassInSourceOrder() {
    List<Problem> ps = errors(String.join("\n",
        "version: \"2\"",                                   // 1
        "default: alow",                                   // 2
        "tools:",                                          // 3
        "  t:",                                            // 4
        "    rules:",                                      // 5
        "      - name: a",                                 // 6
        "        conditions:",                             // 7
        "          - path: args.x",                        // 8
        "            op: lessthan",                        // 9
        "            value: 1",                            // 10
        "      - name: a",                                 // 11
        "        action: deny",                            // 12
        "      - name: b",                                 // 13
        "        conditions: [{path: args.x, op: in, value: 3}]", // 14
        "        state: {counter: c, window: week}",       // 15
        "      - name: d",                                 // 16
        "        conditons: []",                           // 17
        ""));
    assertThat(ps).extracting(Problem::line).isSorted();
    assertThat(ps).extracting(Problem::toString).anySatisfy(s -> assertThat(s)
        .startsWith("bad.yaml:1:").contains("unsupported version '2'"));
    assertThat(ps).extracting(Problem::toString).anySatisfy(s -> assertThat(s)
        .startsWith("bad.yaml:2:").contains("default must be allow or deny, got 'alow'")
        .contains("did you mean 'allow'?"));
    assertThat(ps).extracting(Problem::toString).anySatisfy(s -> assertThat(s)
        .startsWith("bad.yaml:9:").contains("unknown operator 'lessthan'"));
    assertThat(ps).extracting(Problem::toString).anySatisfy(s -> assertThat(s)
        .startsWith("bad.yaml:11:").contains("duplicate rule name 'a'"));
    assertThat(ps).extracting(Problem::toString).anySatisfy(s -> assertThat(s)
        .startsWith("bad.yaml:14:").contains("operator in needs a list value, got number 3"));
    assertThat(ps).extracting(Problem::toString).anySatisfy(s -> assertThat(s)
        .startsWith("bad.yaml:15:").contains("got 'week'"));
    assertThat(ps).extracting(Problem::toString).anySatisfy(s -> assertThat(s)
        .startsWith("bad.yaml:17:").contains("unknown key 'conditons'")
        .contains("did you mean 'conditions'?"));
  }

  @Test
  void operatorSuggestion() {
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n      - name: a\n"
        + "        conditions: [{path: args.x, op: lteq, value: 1}]\n"))
        .singleElement().extracting(Problem::message).asString()
        .contains("unknown operator 'lteq', did you mean 'lte'?");
  }

  @Test
  void valuesAreTypeCheckedPerOperator() {
    String base = "version: \"1\"\ntools:\n  t:\n    rules:\n      - name: a\n"
        + "        conditions: [{path: args.x, op: %s, value: %s}]\n";
    assertThat(errors(String.format(base, "lt", "\"100\""))).singleElement()
        .extracting(Problem::message).asString().contains("lt needs a number");
    assertThat(errors(String.format(base, "regex", "\"(unclosed\""))).singleElement()
        .extracting(Problem::message).asString().contains("regex does not compile");
    assertThat(errors(String.format(base, "regex", "\"(a)\\\\1\""))).singleElement()
        .extracting(Problem::message).asString().contains("RE2");
    assertThat(errors(String.format(base, "exists", "yes"))).singleElement()
        .extracting(Problem::message).asString()
        .isEqualTo("operator exists needs true or false, got text 'yes'");
    assertThat(errors(String.format(base, "not_in", "x"))).singleElement()
        .extracting(Problem::message).asString().contains("needs a list");
    assertThat(errors(String.format(base, "eq", "[1]"))).singleElement()
        .extracting(Problem::message).asString().contains("needs a scalar");
    assertThat(errors(String.format(base, "eq", "null"))).singleElement()
        .extracting(Problem::message).asString().contains("needs a 'value'");
  }

  @Test
  void pathsAreChecked() {
    String base = "version: \"1\"\ntools:\n  t:\n    rules:\n      - name: a\n"
        + "        conditions: [{path: \"%s\", op: exists, value: true}]\n";
    assertThat(errors(String.format(base, "amount"))).singleElement()
        .extracting(Problem::message).asString()
        .contains("path must start with args., context. or state.");
    assertThat(errors(String.format(base, "args.items[x]"))).singleElement()
        .extracting(Problem::message).asString().contains("bad index");
    assertThat(errors(String.format(base, "args.a..b"))).singleElement()
        .extracting(Problem::message).asString().contains("empty key");
    assertThat(errors(String.format(base, "state.t.nope"))).singleElement()
        .extracting(Problem::message).asString()
        .contains("path 'state.t.nope' refers to no counter defined in this policy");
  }

  @Test
  void counterProblems() {
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n      - name: a\n"
        + "        state: {counter: c, window: day, increment: -1}\n"))
        .singleElement().extracting(Problem::message).asString()
        .contains("increment must be > 0, got -1");
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n      - name: a\n"
        + "        state: {counter: c, window: day}\n"
        + "        conditions: [{path: state.t.c, op: gt, value: 3}]\n"))
        .singleElement().extracting(Problem::message).asString()
        .contains("own counter must be lt or lte");
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: a\n        rate_limit: 5/hour\n"
        + "      - name: b\n        rate_limit: 9/hour\n"))
        .singleElement().extracting(Problem::message).asString()
        .contains("counter 't._rate_hour' is already defined at line 6");
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: a\n        rate_limit: 5/fortnight\n"))
        .singleElement().extracting(Problem::message).asString().contains("'fortnight'");
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: a\n        action: deny\n        rate_limit: 5/hour\n"))
        .singleElement().extracting(Problem::message).asString()
        .contains("cannot have action: deny");
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: a\n        rate_limit: 5/hour\n"
        + "        conditions: [{path: args.x, op: exists, value: true}]\n"))
        .singleElement().extracting(Problem::message).asString()
        .contains("has no conditions of its own");
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: a\n        spend: {amount_from: args.x}\n"))
        .singleElement().extracting(Problem::message).asString()
        .contains("spend needs per_call, daily or both");
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: a\n        loop: {max_repeats: 0, window: 1m}\n"))
        .singleElement().extracting(Problem::message).asString().contains("max_repeats");
    assertThat(errors("version: \"1\"\ntools:\n  t:\n    rules:\n      - name: a\n"))
        .singleElement().extracting(Problem::message).asString()
        .contains("needs at least one condition");
  }

  @Test
  void warningsForRulesThatCanNeverPass() {
    Policy p = PolicyLoader.loadString("version: \"1\"\ntools:\n  t:\n    rules:\n"
        + "      - name: a\n"
        + "        conditions: [{path: args.x, op: gt, value: 10}, {path: args.x, op: lt, value: 5}]\n"
        + "      - name: b\n"
        + "        conditions: [{path: context.n, op: eq, value: 5}]\n"
        + "      - name: c\n        action: deny\n"
        + "      - name: d\n        conditions: [{path: args.y, op: exists, value: true}]\n",
        "w.yaml");
    assertThat(p.warnings()).anySatisfy(w -> assertThat(w)
        .startsWith("w.yaml:5:").contains("warning: rule 'a' can never pass"));
    assertThat(p.warnings()).anySatisfy(w -> assertThat(w).contains("eq never matches"));
    assertThat(p.warnings()).anySatisfy(w -> assertThat(w)
        .contains("rule 'd' is never reached: rule 'c' before it always decides"));
  }

  @Test
  void yamlSyntaxErrorsHaveALocation() {
    assertThat(errors("version: \"1\"\ntools:\n  t: [\n")).singleElement()
        .satisfies(p -> {
          assertThat(p.line()).isGreaterThan(0);
          assertThat(p.message()).startsWith("invalid YAML");
        });
    assertThat(errors("version: \"1\"\nversion: \"1\"\n")).singleElement()
        .satisfies(p -> {
          assertThat(p.line()).isEqualTo(2);
          assertThat(p.message()).contains("duplicate key 'version'");
        });
  }

  @Test
  void yaml12Scalars() {
    // yes/no are text (YAML 1.2 core schema, as Go's yaml.v3), so this is a type error
    assertThat(errors("version: \"1\"\nhide_unlisted: yes\n")).singleElement()
        .extracting(Problem::message).asString().contains("got text 'yes'");
    assertThat(errors("version: \"1\"\nhide: [x]\n!!python/object:os.system x: 1\n"))
        .isNotEmpty();
  }

  @Test
  @Timeout(30)
  void aliasBombIsRefusedQuickly() {
    StringBuilder sb = new StringBuilder("version: \"1\"\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 30; i++) {
      sb.append("a").append(i).append(": &a").append(i).append(" [");
      for (int j = 0; j < 10; j++) {
        sb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
      }
      sb.append("]\n");
    }
    assertThatThrownBy(() -> PolicyLoader.loadString(sb.toString(), "bomb.yaml"))
        .isInstanceOf(PolicyConfigException.class)
        .hasMessageContaining("bomb.yaml:")
        .hasMessageFindingMatch("alias|too large");
  }

  @Test
  @Timeout(30)
  void smallerAliasExpansionBeyondTheNodeBudgetIsRefused() {
    // 2 aliases per level x 20 levels = 40 aliases (under the alias limit) but 2^20 nodes
    StringBuilder sb = new StringBuilder("version: \"1\"\na0: &a0 [x, x]\n");
    for (int i = 1; i <= 20; i++) {
      sb.append("a").append(i).append(": &a").append(i).append(" [*a").append(i - 1)
          .append(", *a").append(i - 1).append("]\n");
    }
    assertThatThrownBy(() -> PolicyLoader.loadString(sb.toString(), "bomb.yaml"))
        .isInstanceOf(PolicyConfigException.class)
        .hasMessageContaining("alias bomb?");
  }

  @Test
  void anchorsWithinLimitsWork() {
    Policy p = PolicyLoader.loadString("version: \"1\"\ntools:\n"
        + "  a:\n    rules: &r\n      - name: limit\n"
        + "        conditions: [{path: args.n, op: lte, value: 5}]\n"
        + "  b:\n    rules: *r\n", "anchors.yaml");
    assertThat(p.tools().get("b")).singleElement().extracting(Rule::name).isEqualTo("limit");
  }

  @Test
  void mergeKeysAreRefusedWithAClearMessage() {
    assertThat(errors("version: \"1\"\nbase: &b {x: 1}\nother:\n  <<: *b\n"))
        .anySatisfy(p -> assertThat(p.message()).contains("merge keys (<<) are not supported"));
  }

  @Test
  @Timeout(30)
  void oversizedFilesAreRefusedBeforeParsing(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("huge.yaml");
    byte[] big = new byte[YamlDocument.MAX_BYTES + 10];
    java.util.Arrays.fill(big, (byte) '#');
    Files.write(f, big);
    assertThatThrownBy(() -> PolicyLoader.load(f))
        .isInstanceOf(PolicyConfigException.class)
        .hasMessageContaining("file is too large");
  }

  @Test
  void nonUtf8IsRefused(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("latin1.yaml");
    Files.write(f, new byte[] {'v', ':', ' ', (byte) 0xE9, '\n'});
    assertThatThrownBy(() -> PolicyLoader.load(f)).hasMessageContaining("not valid UTF-8");
  }

  @Test
  void javaBuilderGoesThroughTheSameValidator() {
    assertThatThrownBy(() -> Policy.builder("p")
        .tool("t", t -> t.rule("a", r -> r.when("args.x", "lteq", 5)))
        .tool("t", t -> t.rule("a", r -> r.when("args.y", "exists", true)))
        .build())
        .isInstanceOf(PolicyConfigException.class)
        .hasMessageContaining("unknown operator 'lteq', did you mean 'lte'?")
        .hasMessageContaining("duplicate rule name 'a'");
    Policy ok = Policy.builder("p").defaultDecision("deny")
        .tool("create_refund", t -> t
            .rule("max single refund", r -> r.when("args.amount", "lte", 5000)
                .onDeny("Single refund cannot exceed $50.00"))
            .rule("daily total", r -> r.stateFrom("daily_total", "day", "args.amount")
                .when("state.create_refund.daily_total", "lte", 20000)))
        .build();
    assertThat(ok.tools().get("create_refund")).extracting(Rule::name)
        .containsExactly("max single refund", "daily total");
    assertThat(ok.tools().get("create_refund").get(1).limit()).isEqualByComparingTo("20000");
    assertThat(ok.version()).hasSize(64);
  }

  @Test
  void problemsFromJavaBuiltPoliciesHaveNoLineButAKey() {
    assertThatThrownBy(() -> Policy.builder("p").tool("t", t -> t.rule("a",
        r -> r.when("args.x", "lt", "ten"))).build())
        .isInstanceOfSatisfying(PolicyConfigException.class, e ->
            assertThat(e.problems()).singleElement().satisfies(p -> {
              assertThat(p.line()).isZero();
              assertThat(p.key()).isEqualTo("tools.t.rules[0].conditions[0].value");
            }));
  }
}
