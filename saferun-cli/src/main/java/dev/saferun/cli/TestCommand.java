package dev.saferun.cli;

import dev.saferun.PolicyConfigException;
import dev.saferun.audit.FileAuditSink;
import dev.saferun.audit.FsyncPolicy;
import dev.saferun.test.CaseResult;
import dev.saferun.test.FileResult;
import dev.saferun.test.PolicyTestFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code saferun test FILE_OR_DIR...}: runs policy test files (SPEC §10). */
@Command(
    name = "test",
    description = {
        "Run policy test files. A directory means every *.test.yaml under it (recursively,"
            + " sorted). Prints 'PASS <file> › <case>' or 'FAIL <file> › <case>' with what was"
            + " expected and decided, then 'N passed, N failed'.",
        "Exit code: 0 if every case passed, 1 if a case failed, 2 if a file could not be read or"
            + " validated."})
final class TestCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "FILE_OR_DIR",
      description = "Test files, or directories to search for *.test.yaml files.")
  List<Path> paths;

  @Option(names = "--audit", paramLabel = "OUT.jsonl",
      description = "Also write the run's audit log (every decision and approval, at the test"
          + " files' clock times) to this file, replacing it; for 'saferun audit verify|query',"
          + " 'saferun runs show' and 'saferun replay'.")
  Path audit;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<Path> files;
    try {
      files = PolicyTestFile.discover(paths);
    } catch (NoSuchFileException e) {
      err.println("saferun: " + e.getFile() + ": no such file or directory");
      return Main.ERROR;
    }
    if (files.isEmpty()) {
      err.println("saferun: no " + PolicyTestFile.SUFFIX + " files found in " + paths);
      return Main.ERROR;
    }
    FileAuditSink sink = null;
    if (audit != null) {
      try {
        sink = FileAuditSink.builder(audit).newChain().synchronous().fsync(FsyncPolicy.ON_ROTATE)
            .maxFileBytes(0).build();
      } catch (IOException | IllegalArgumentException e) {
        err.println("saferun: cannot write the audit log " + audit + ": " + e.getMessage());
        return Main.ERROR;
      }
    }
    long passed = 0;
    long failed = 0;
    boolean fileErrors = false;
    for (Path path : files) {
      PolicyTestFile file;
      try {
        file = PolicyTestFile.load(path);
      } catch (PolicyConfigException e) {
        fileErrors = true;
        e.problems().forEach(err::println);
        continue;
      }
      FileResult result = sink == null ? file.run() : file.run(sink);
      for (CaseResult c : result.cases()) {
        out.println((c.passed() ? "PASS " : "FAIL ") + c.file() + " › " + c.name());
        if (!c.passed()) {
          for (String line : c.report()) {
            out.println("    " + line);
          }
        }
      }
      passed += result.passed();
      failed += result.failed();
    }
    if (sink != null) {
      sink.close();
    }
    out.println(passed + " passed, " + failed + " failed");
    if (fileErrors) {
      return Main.ERROR;
    }
    return failed > 0 ? Main.FAILED : Main.OK;
  }
}
