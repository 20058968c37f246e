package dev.saferun.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.saferun.PolicyConfigException;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.test.FileResult;
import dev.saferun.test.PolicyTestFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code saferun init --tools tools.json}: writes a starter deny-by-default policy and its test
 * file from MCP tool definitions (see {@link StarterPolicy} for the tiers). Before writing, the
 * generated policy is validated; after writing, its tests are run; a failure of either is
 * reported as an error (it would be a bug in this command).
 */
@Command(
    name = "init",
    description = {
        "Write a starter policy and its test file from MCP tool definitions (the JSON of a"
            + " tools/list response: {\"tools\": [...]}, a bare array, or the whole JSON-RPC"
            + " response).",
        "Tools are grouped in risk tiers from their annotations (readOnlyHint, destructiveHint)"
            + " and names: read tools are allowed, write tools rate-limited, financial tools"
            + " rate-limited and held for approval, destructive tools hidden. Everything else is"
            + " denied (default: deny).",
        "Writes <out>/<name>.yaml and <out>/<name>.test.yaml; refuses to overwrite either"
            + " unless --force is given.",
        "Exit code: 0 when both files were written, 2 on an error."})
final class InitCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Option(names = "--tools", required = true, paramLabel = "FILE",
      description = "MCP tools/list JSON.")
  Path tools;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = ".",
      description = "Directory to write into (created if missing; default: the current one).")
  Path out;

  @Option(names = "--name", paramLabel = "NAME",
      description = "Policy name and file name stem (default: the tools file's name without"
          + " .json).")
  String name;

  @Option(names = "--force", description = "Overwrite existing files.")
  boolean force;

  @Override
  public Integer call() throws IOException {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(tools, StandardCharsets.UTF_8));
    } catch (NoSuchFileException e) {
      err.println("saferun: " + tools + ": no such file");
      return Main.ERROR;
    } catch (JsonProcessingException e) {
      err.println("saferun: " + tools + ": not valid JSON: " + e.getOriginalMessage());
      return Main.ERROR;
    }
    List<StarterPolicy.Tool> defs;
    try {
      defs = StarterPolicy.read(root == null ? JSON.missingNode() : root);
    } catch (IllegalArgumentException e) {
      err.println("saferun: " + tools + ": " + e.getMessage());
      return Main.ERROR;
    }
    String stem = name != null ? name : stem(tools);
    if (stem.isBlank() || stem.contains("/") || stem.contains("\\")) {
      err.println("saferun: --name must be a plain file name stem, got '" + stem + "'");
      return Main.ERROR;
    }
    Path policyFile = out.resolve(stem + ".yaml");
    Path testFile = out.resolve(stem + PolicyTestFile.SUFFIX);
    for (Path p : List.of(policyFile, testFile)) {
      if (Files.exists(p) && !force) {
        err.println("saferun: " + p + " already exists (use --force to overwrite)");
        return Main.ERROR;
      }
    }

    String policy = StarterPolicy.policy(stem, tools.getFileName().toString(), defs);
    String tests = StarterPolicy.tests(policyFile.getFileName().toString(), defs);
    try {
      PolicyLoader.loadString(policy, policyFile.toString());
    } catch (PolicyConfigException e) {
      err.println("saferun: internal error: the generated policy does not validate:");
      e.problems().forEach(err::println);
      return Main.ERROR;
    }
    Files.createDirectories(out);
    Files.writeString(policyFile, policy, StandardCharsets.UTF_8);
    Files.writeString(testFile, tests, StandardCharsets.UTF_8);

    FileResult result = PolicyTestFile.load(testFile).run();
    if (!result.allPassed()) {
      err.println("saferun: internal error: the generated tests fail; run 'saferun test "
          + testFile + "' to see why");
      return Main.ERROR;
    }
    stdout.println("Wrote " + policyFile + " (" + defs.size() + " tools: "
        + StarterPolicy.summary(defs) + ")");
    stdout.println("Wrote " + testFile + " (" + result.cases().size()
        + " cases, all passing)");
    stdout.println("Review the tiers in " + policyFile.getFileName() + ", then run: saferun"
        + " test " + testFile);
    return Main.OK;
  }

  private static String stem(Path file) {
    String n = file.getFileName().toString();
    return n.toLowerCase(java.util.Locale.ROOT).endsWith(".json")
        ? n.substring(0, n.length() - 5) : n;
  }
}
