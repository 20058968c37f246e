package dev.saferun.test;

import dev.saferun.CallContext;
import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.policy.PolicySet;
import dev.saferun.policy.SourceLocation;
import dev.saferun.policy.YamlDocument;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A policy test file (SPEC §10, {@code *.test.yaml}): the policy or ordered policy set under
 * test, a start instant, a default context, tool prices, and cases that run in order against one
 * {@code SafeRun} on a {@link FakeClock} with fresh in-memory counters.
 *
 * <pre>{@code
 * PolicyTestFile file = PolicyTestFile.load(Path.of("src/test/policies/refunds.test.yaml"));
 * FileResult result = file.run();
 * result.cases().forEach(c -> System.out.println((c.passed() ? "PASS " : "FAIL ") + c.name()));
 * }</pre>
 *
 * <p>Loading validates everything a run needs (the file's keys and values, every policy, prices
 * for spend rules) and reports every problem at {@code file:line:col} in one
 * {@link PolicyConfigException}, so a file that loads runs. Keys beyond SPEC §10: {@code args_json}
 * (raw argument text, to test malformed JSON); {@code rule: null} / {@code policy: null} in
 * {@code expect} (the decision names no rule / policy); {@code shadow: none} (no shadow rule ran);
 * {@code shadow} may be a mapping with {@code decision, rule, policy, message,
 * message_contains}; an {@code advance} step may carry a {@code name} for readability.
 * {@code args: null} is the JSON value {@code null} (a non-object, denied), while leaving
 * {@code args} out means no arguments ({@code {}}).
 *
 * <p>Immutable and thread-safe; every {@link #run()} starts from a fresh clock and counters.
 */
public final class PolicyTestFile {
  /** The file name suffix of policy test files. */
  public static final String SUFFIX = ".test.yaml";

  private final String source;
  private final PolicySet policies;
  private final Instant start;
  private final CallContext context;
  private final Map<String, BigDecimal> prices;
  private final List<Step> steps;
  private final List<Case> cases;
  private final List<String> warnings;

  PolicyTestFile(String source, PolicySet policies, Instant start, CallContext context,
      Map<String, BigDecimal> prices, List<Step> steps, List<String> warnings) {
    this.source = source;
    this.policies = policies;
    this.start = start;
    this.context = context;
    this.prices = Collections.unmodifiableMap(new java.util.LinkedHashMap<>(prices));
    this.steps = List.copyOf(steps);
    List<Case> cs = new ArrayList<>();
    for (Step s : steps) {
      if (s instanceof Step.Call) {
        cs.add(((Step.Call) s).info());
      } else if (s instanceof Step.Visible) {
        cs.add(((Step.Visible) s).info());
      }
    }
    this.cases = List.copyOf(cs);
    this.warnings = List.copyOf(warnings);
  }

  /**
   * A test case's identity: its name and where it is written.
   *
   * @param name the case's {@code name:}
   * @param location where the case's mapping starts
   */
  public record Case(String name, SourceLocation location) {}

  /**
   * Reads and validates a test file. Policy paths in it are relative to the file's directory.
   *
   * @throws PolicyConfigException listing every problem, each at {@code file:line:col}
   */
  public static PolicyTestFile load(Path file) {
    Objects.requireNonNull(file, "file");
    String source = file.toString();
    byte[] bytes;
    try {
      if (Files.size(file) > YamlDocument.MAX_BYTES) {
        throw problem(source, 1, "file is too large: " + Files.size(file) + " bytes, the limit is "
            + YamlDocument.MAX_BYTES);
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw problem(source, 0, "no such file");
    } catch (IOException e) {
      throw problem(source, 0, "cannot read test file: " + e);
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw problem(source, 1, "test file is not valid UTF-8");
    }
    Path dir = file.toAbsolutePath().getParent();
    return parse(text, source, dir);
  }

  /**
   * Reads and validates test-file text.
   *
   * @param yaml the file's content
   * @param source a label for messages, usually the file's path
   * @param baseDir the directory relative policy paths are resolved against
   * @throws PolicyConfigException listing every problem, each at {@code source:line:col}
   */
  public static PolicyTestFile parse(String yaml, String source, Path baseDir) {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(baseDir, "baseDir");
    return TestFileReader.read(yaml, source, baseDir);
  }

  /**
   * The test files named by {@code paths}: a file stands for itself, a directory for every
   * {@code *.test.yaml} file under it (recursively, sorted by path). Duplicates are dropped; the
   * order of {@code paths} is kept.
   *
   * @throws NoSuchFileException if a path does not exist
   * @throws IOException if a directory cannot be listed
   */
  public static List<Path> discover(List<Path> paths) throws IOException {
    Set<Path> out = new LinkedHashSet<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> walk = Files.walk(p)) {
          out.addAll(walk
              .filter(f -> f.getFileName().toString().endsWith(SUFFIX) && Files.isRegularFile(f))
              .sorted((a, b) -> a.toString().compareTo(b.toString()))
              .collect(Collectors.toList()));
        }
      } else if (Files.exists(p)) {
        out.add(p);
      } else {
        throw new NoSuchFileException(p.toString(), null, "no such file or directory");
      }
    }
    return List.copyOf(out);
  }

  /** Runs every case in order, from a fresh clock at {@link #start()} and fresh counters. */
  public FileResult run() {
    return new TestRunner(this).run();
  }

  /**
   * Like {@link #run()}, recording every decision and approval event to {@code audit} (e.g. a
   * {@code FileAuditSink}, for {@code saferun test --audit}). Events carry the file's fake-clock
   * times; an audit failure denies the call, as in production (fail closed).
   */
  public FileResult run(dev.saferun.audit.AuditSink audit) {
    return new TestRunner(this, java.util.Objects.requireNonNull(audit, "audit")).run();
  }

  /** The file's path or label, as used in messages. */
  public String source() {
    return source;
  }

  /** The policies under test, in order. */
  public PolicySet policies() {
    return policies;
  }

  /** The clock's start ({@code clock:}, default 2026-01-01T00:00:00Z). */
  public Instant start() {
    return start;
  }

  /** The default context of every case. */
  public CallContext context() {
    return context;
  }

  /** Tool prices for spend rules. */
  public Map<String, BigDecimal> prices() {
    return prices;
  }

  /** The cases, in order (advance steps are not cases). */
  public List<Case> cases() {
    return cases;
  }

  /** Validation warnings of the policies under test, as {@code file:line:col: warning: …}. */
  public List<String> warnings() {
    return warnings;
  }

  List<Step> steps() {
    return steps;
  }

  private static PolicyConfigException problem(String source, int line, String message) {
    return new PolicyConfigException(List.of(new Problem(source, line, line > 0 ? 1 : 0, "",
        message, false)));
  }

  @Override
  public String toString() {
    return "PolicyTestFile[" + source + ", " + cases.size() + " cases]";
  }
}
