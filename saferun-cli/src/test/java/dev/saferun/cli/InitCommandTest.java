package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.Rule;
import dev.saferun.test.PolicyTestFile;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code saferun init}: starter policy and tests from MCP tool definitions. */
class InitCommandTest {
  @TempDir
  Path dir;

  static Path resource(String name) {
    try {
      return Path.of(InitCommandTest.class.getResource("/init/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Map<String, List<String>> ruleNames(Policy p) {
    return p.tools().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
        e -> e.getValue().stream().map(Rule::name).toList()));
  }

  @Test
  void aStripeLikeServerGetsFourTiersAndTheGeneratedFilesPassValidateAndTest() {
    Path out = dir.resolve("policies");

    CliRun init = CliRun.of("init", "--tools", resource("stripe.json").toString(), "--out",
        out.toString());

    assertThat(init.code()).as(init.err()).isZero();
    assertThat(init.err()).isEmpty();
    assertThat(init.outLines()).containsExactly(
        "Wrote " + out.resolve("stripe.yaml") + " (16 tools: 6 read, 4 write, 5 financial,"
            + " 1 destructive)",
        "Wrote " + out.resolve("stripe.test.yaml") + " (27 cases, all passing)",
        "Review the tiers in stripe.yaml, then run: saferun test "
            + out.resolve("stripe.test.yaml"));

    Policy p = PolicyLoader.load(out.resolve("stripe.yaml"));
    assertThat(p.name()).isEqualTo("stripe");
    assertThat(p.defaultAllow()).isFalse();
    assertThat(p.hide()).containsExactly("delete_customer");
    Map<String, List<String>> rules = ruleNames(p);
    assertThat(rules.get("list_customers")).isEmpty();
    assertThat(rules.get("search_stripe_documentation")).isEmpty();
    assertThat(rules.get("create_customer")).containsExactly("write rate limit");
    assertThat(rules.get("create_refund"))
        .containsExactly("financial rate limit", "financial approval");
    assertThat(rules.get("cancel_subscription"))
        .as("a financial name word outweighs destructiveHint: false")
        .containsExactly("financial rate limit", "financial approval");
    assertThat(rules).doesNotContainKey("delete_customer");
    assertThat(p.warnings()).isEmpty();

    CliRun validate = CliRun.of("validate", out.resolve("stripe.yaml").toString(),
        out.resolve("stripe.test.yaml").toString());
    assertThat(validate.code()).isZero();
    assertThat(validate.outLines()).containsExactly(out.resolve("stripe.yaml") + ": valid",
        out.resolve("stripe.test.yaml") + ": valid");

    CliRun test = CliRun.of("test", out.toString());
    assertThat(test.code()).as(test.out()).isZero();
    assertThat(test.outLines()).last().isEqualTo("27 passed, 0 failed");
    assertThat(test.outLines()).contains(
        "PASS " + out.resolve("stripe.test.yaml") + " › create_refund (financial) is held for a"
            + " human",
        "PASS " + out.resolve("stripe.test.yaml") + " › create_refund (financial) runs once a"
            + " human approves it",
        "PASS " + out.resolve("stripe.test.yaml") + " › create_customer (write) is rate-limited"
            + " after that",
        "PASS " + out.resolve("stripe.test.yaml") + " › delete_customer (destructive) is hidden"
            + " and denied");
  }

  @Test
  void aGithubLikeServerAsABareArrayHidesDeletesAndRateLimitsWrites() {
    CliRun init = CliRun.of("init", "--tools", resource("github.json").toString(), "--out",
        dir.toString(), "--name", "github-agent");

    assertThat(init.code()).as(init.err()).isZero();
    assertThat(init.outLines().get(0)).isEqualTo("Wrote " + dir.resolve("github-agent.yaml")
        + " (18 tools: 6 read, 10 write, 2 destructive)");
    Policy p = PolicyLoader.load(dir.resolve("github-agent.yaml"));
    assertThat(p.name()).isEqualTo("github-agent");
    assertThat(p.hide()).containsExactly("delete_file", "remove_sub_issue");
    Map<String, List<String>> rules = ruleNames(p);
    assertThat(rules.get("get_me")).isEmpty();
    assertThat(rules.get("merge_pull_request")).containsExactly("write rate limit");
    assertThat(rules.get("dismiss_notification")).as("'read' in a description makes no read"
        + " tool").containsExactly("write rate limit");

    CliRun validate = CliRun.of("validate", dir.resolve("github-agent.yaml").toString(),
        dir.resolve("github-agent.test.yaml").toString());
    assertThat(validate.code()).isZero();
    CliRun test = CliRun.of("test", dir.toString());
    assertThat(test.code()).as(test.out()).isZero();
    assertThat(test.outLines()).last().isEqualTo("30 passed, 0 failed");
  }

  @Test
  void theGeneratedPolicyCommentsEachTierAndTool() throws IOException {
    CliRun.of("init", "--tools", resource("stripe.json").toString(), "--out", dir.toString());

    String yaml = Files.readString(dir.resolve("stripe.yaml"));
    assertThat(yaml)
        .contains("# Destructive tier: hidden from the model and denied.")
        .contains("# Read tier: read-only tools, allowed.")
        .contains("# Write tier: tools that change something, at most 30 calls a minute each.")
        .contains("# Financial tier: tools that move money, at most 10 calls an hour each, and")
        .contains("  - delete_customer  # destructiveHint - Permanently delete a customer. This"
            + " cannot be undone.\n")
        .contains("  create_refund:  # name: refund - Refund a payment intent in Stripe.\n")
        .contains("  search_stripe_documentation:  # readOnlyHint; open world - Search and"
            + " retrieve relevant Stripe documentation.\n");
  }

  @Test
  void theToolListOfAJsonRpcResponseIsAccepted() throws IOException {
    Path tools = Files.writeString(dir.resolve("server.json"), """
        {"jsonrpc": "2.0", "id": 1, "result": {"tools": [
          {"name": "get_weather", "inputSchema": {"type": "object", "properties":
            {"city": {"type": "string"}}, "required": ["city"]}}
        ]}}
        """);

    CliRun init = CliRun.of("init", "--tools", tools.toString(), "--out", dir.toString());

    assertThat(init.code()).as(init.err()).isZero();
    assertThat(init.outLines().get(0)).endsWith("server.yaml (1 tools: 1 read)");
    assertThat(Files.readString(dir.resolve("server.test.yaml")))
        .contains("    call: get_weather\n    args: {city: example}\n");
  }

  @Test
  void existingFilesAreNotOverwrittenWithoutForce() throws IOException {
    Path tools = resource("stripe.json");
    Files.writeString(dir.resolve("stripe.test.yaml"), "mine\n");

    CliRun refused = CliRun.of("init", "--tools", tools.toString(), "--out", dir.toString());

    assertThat(refused.code()).isEqualTo(Main.ERROR);
    assertThat(refused.errLines()).containsExactly("saferun: " + dir.resolve("stripe.test.yaml")
        + " already exists (use --force to overwrite)");
    assertThat(dir.resolve("stripe.yaml")).doesNotExist();
    assertThat(dir.resolve("stripe.test.yaml")).hasContent("mine");

    CliRun forced = CliRun.of("init", "--tools", tools.toString(), "--out", dir.toString(),
        "--force");

    assertThat(forced.code()).isZero();
    assertThat(Files.readString(dir.resolve("stripe.test.yaml"))).startsWith("# Starter tests");
  }

  @Test
  void theOutputIsDeterministic() throws IOException {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    CliRun.of("init", "--tools", resource("github.json").toString(), "--out", a.toString());
    CliRun.of("init", "--tools", resource("github.json").toString(), "--out", b.toString());

    assertThat(a.resolve("github.yaml")).hasSameTextualContentAs(b.resolve("github.yaml"));
    assertThat(a.resolve("github.test.yaml"))
        .hasSameTextualContentAs(b.resolve("github.test.yaml"));
  }

  @Test
  void awkwardNamesAndDescriptionsAreQuotedAndCannotInjectYaml() throws IOException {
    Path tools = Files.writeString(dir.resolve("odd.json"), """
        {"tools": [
          {"name": "true", "description": "Lists nothing", "annotations": {"readOnlyHint": true}},
          {"name": "ns:get thing", "description": "Reads a thing"},
          {"name": "pay#1", "description": "line one\\nhide: [everything]\\u2028tools: {}"},
          {"name": "\\u00e9crire", "description": "   "},
          {"name": "a_tool_not_in_the_policy", "description": "collides with the probe"},
          {"name": "x", "inputSchema": {"type": "object", "required": ["q\\"uote"],
            "properties": {"q\\"uote": {"type": "string", "enum": ["a: b"]}}}}
        ]}
        """);

    CliRun init = CliRun.of("init", "--tools", tools.toString(), "--out", dir.toString());

    assertThat(init.code()).as(init.err()).isZero();
    Policy p = PolicyLoader.load(dir.resolve("odd.yaml"));
    assertThat(p.tools().keySet()).containsExactlyInAnyOrder("true", "ns:get thing", "pay#1",
        "\u00e9crire", "a_tool_not_in_the_policy", "x");
    assertThat(p.hide()).isEmpty();
    assertThat(ruleNames(p).get("pay#1")).containsExactly("financial rate limit",
        "financial approval");
    assertThat(ruleNames(p).get("ns:get thing")).isEmpty();
    String yaml = Files.readString(dir.resolve("odd.yaml"));
    assertThat(yaml).contains("  \"pay#1\":  # name: pay - line one hide: [everything] tools:"
        + " {}\n");
    assertThat(PolicyTestFile.load(dir.resolve("odd.test.yaml")).run().allPassed()).isTrue();
    assertThat(Files.readString(dir.resolve("odd.test.yaml")))
        .contains("    call: a_tool_not_in_the_policy_2\n")
        .contains("    args: {\"q\\\"uote\": \"a: b\"}\n");
  }

  @Test
  void badInputIsAnErrorNamingTheProblem() throws IOException {
    assertError(CliRun.of("init", "--tools", dir.resolve("missing.json").toString()),
        "saferun: " + dir.resolve("missing.json") + ": no such file");
    assertError(init("{\"tools\": [", "bad.json"), "saferun: %s: not valid JSON: ");
    assertError(init("{\"tools\": []}", "empty.json"), "saferun: %s: the tool list is empty");
    assertError(init("{\"name\": \"x\"}", "object.json"), "saferun: %s: expected MCP tools/list"
        + " JSON: {\"tools\": [...]} or an array of tools, got an object without \"tools\"");
    assertError(init("[{\"description\": \"x\"}]", "noname.json"),
        "saferun: %s: tools[0] needs a \"name\" (text)");
    assertError(init("[{\"name\": \"a\"}, {\"name\": \"a\"}]", "dup.json"),
        "saferun: %s: tools[1]: tool \"a\" is listed twice");
    assertError(init("[{\"name\": \"*\"}]", "star.json"),
        "saferun: %s: tools[0]: a tool cannot be named \"*\"");
    assertThat(dir).isDirectoryNotContaining("glob:**.yaml");
  }

  private CliRun init(String json, String file) throws IOException {
    Path p = Files.writeString(dir.resolve(file), json);
    return CliRun.of("init", "--tools", p.toString(), "--out", dir.toString());
  }

  private void assertError(CliRun r, String startOfMessage) {
    assertThat(r.code()).isEqualTo(Main.ERROR);
    assertThat(r.out()).isEmpty();
    String file = r.err().contains(": ") ? r.err().substring("saferun: ".length(),
        r.err().indexOf(": ", "saferun: ".length())) : "";
    assertThat(r.err()).startsWith(startOfMessage.replace("%s", file));
  }
}
