package dev.saferun.test;

import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.policy.SourceLocation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AssertionFailureBuilder;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;

/**
 * Runs policy test files (SPEC §10) as JUnit 5 dynamic tests: one container per file, one test
 * per case, named by the case's name and linked to its line.
 *
 * <pre>{@code
 * class PolicyFilesTest {
 *   @TestFactory
 *   Stream<DynamicContainer> policies() {
 *     return SafeRunTests.from("src/test/policies");
 *   }
 * }
 * }</pre>
 *
 * <p>A file's cases share one clock and one set of counters and depend on running in order, so
 * the whole file runs once, when its first test executes, and each test then reports its own
 * case. A failing case fails with what was expected and decided, the decision's policy version
 * and its rule trace. A file that does not load becomes one failing test listing every problem at
 * {@code file:line:col}.
 *
 * <p>Stateless and thread-safe; each returned container holds its own file's run.
 */
public final class SafeRunTests {
  private SafeRunTests() {}

  /**
   * Dynamic tests for the given test files and directories (a directory means every
   * {@code *.test.yaml} under it, recursively, sorted).
   *
   * @throws IllegalArgumentException if a path does not exist or no test file is found
   */
  public static Stream<DynamicContainer> from(String... paths) {
    return from(Arrays.stream(paths).map(Path::of).toArray(Path[]::new));
  }

  /**
   * Dynamic tests for the given test files and directories.
   *
   * @throws IllegalArgumentException if a path does not exist or no test file is found
   */
  public static Stream<DynamicContainer> from(Path... paths) {
    List<Path> files;
    try {
      files = PolicyTestFile.discover(Arrays.asList(paths));
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("No such file or directory: " + e.getFile(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list policy test files: " + e.getMessage(), e);
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("No " + PolicyTestFile.SUFFIX + " files found in "
          + Arrays.toString(paths));
    }
    return files.stream().map(SafeRunTests::container);
  }

  private static DynamicContainer container(Path path) {
    URI fileUri = path.toAbsolutePath().toUri();
    PolicyTestFile file;
    try {
      file = PolicyTestFile.load(path);
    } catch (PolicyConfigException e) {
      String problems = e.problems().stream().map(Problem::toString)
          .collect(Collectors.joining("\n"));
      return DynamicContainer.dynamicContainer(path.toString(), fileUri, Stream.of(
          DynamicTest.dynamicTest("load " + path.getFileName(), fileUri, () -> {
            throw AssertionFailureBuilder.assertionFailure()
                .message("Policy test file " + path + " is not valid:\n" + problems)
                .build();
          })));
    }
    Lazy run = new Lazy(file);
    List<DynamicTest> tests = new ArrayList<>();
    List<PolicyTestFile.Case> cases = file.cases();
    for (int i = 0; i < cases.size(); i++) {
      int index = i;
      PolicyTestFile.Case c = cases.get(i);
      tests.add(DynamicTest.dynamicTest(c.name(), lineUri(fileUri, c.location()),
          () -> check(run.get().cases().get(index))));
    }
    return DynamicContainer.dynamicContainer(path.toString(), fileUri, tests.stream());
  }

  private static void check(CaseResult r) {
    if (r.passed()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    sb.append("Case '").append(r.name()).append("' in ").append(r.file()).append(" failed");
    for (String line : r.report()) {
      sb.append("\n  ").append(line);
    }
    throw AssertionFailureBuilder.assertionFailure()
        .message(sb.toString())
        .expected(r.expected())
        .actual(r.actual())
        .includeValuesInMessage(false)
        .build();
  }

  private static URI lineUri(URI file, SourceLocation l) {
    if (l == null || l.line() <= 0) {
      return file;
    }
    return URI.create(file + "?line=" + l.line() + "&column=" + l.column());
  }

  /** Runs the file once, on first use, from whichever test thread asks first. */
  private static final class Lazy {
    private final PolicyTestFile file;
    private FileResult result;

    Lazy(PolicyTestFile file) {
      this.file = file;
    }

    synchronized FileResult get() {
      if (result == null) {
        result = file.run();
      }
      return result;
    }
  }
}
