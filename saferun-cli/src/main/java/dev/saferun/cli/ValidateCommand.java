package dev.saferun.cli;

import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.test.PolicyTestFile;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code saferun validate FILE...}: checks policy files (and policy test files). */
@Command(
    name = "validate",
    description = {
        "Check policy files. Prints '<file>: valid' (followed by any warnings) or one line per"
            + " problem, '<file>:<line>:<col>: <message>'; warnings are marked 'warning:'.",
        "Files named *.test.yaml are checked as policy test files, with the policies they use.",
        "Exit code: 0 if every file is valid, 1 otherwise."})
final class ValidateCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "Policy files to check.")
  List<Path> files;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    boolean allValid = true;
    for (Path file : files) {
      if (!Files.isRegularFile(file)) {
        out.println(file + ": " + (Files.exists(file) ? "not a regular file" : "no such file"));
        allValid = false;
        continue;
      }
      try {
        List<String> warnings;
        if (file.getFileName().toString().endsWith(PolicyTestFile.SUFFIX)) {
          warnings = PolicyTestFile.load(file).warnings();
        } else {
          Policy policy = PolicyLoader.load(file);
          warnings = policy.warnings();
        }
        out.println(file + ": valid");
        warnings.forEach(out::println);
      } catch (PolicyConfigException e) {
        allValid = false;
        for (Problem p : e.problems()) {
          out.println(p);
        }
      }
    }
    return allValid ? Main.OK : Main.FAILED;
  }
}
