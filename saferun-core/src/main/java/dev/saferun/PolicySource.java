package dev.saferun;

import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.audit.AuditEvent;
import dev.saferun.internal.controls.FileWatcher;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hot reload (SPEC §8): loads policy files and directories into one {@link PolicySet}, swaps it
 * into a {@link SafeRun} atomically, and watches the files for changes (debounced on SafeRun's
 * clock). A change that fails to load or validate leaves the previous set in force; the error is
 * logged with its {@code file:line:col}, audited ({@code POLICY_REJECTED}) and passed to the
 * listener. A successful reload is audited ({@code POLICY_RELOADED}) with the new versions.
 *
 * <p>A directory contributes every {@code *.yaml} and {@code *.yml} under it except
 * {@code *.test.yaml} files, in path order; the paths given keep their order. So a team can keep
 * {@code common.yaml} beside {@code prod/}, {@code staging/} and {@code dev/} directories whose
 * policies {@code match} their environment.
 *
 * <p>A file caught mid-write is not loaded: after loading, every file is read again and the set
 * is swapped in only if no file changed meanwhile. Still, write policy files atomically (write a
 * temporary file, then rename it over the old one), as editors and deployment tools usually do.
 *
 * <p>Thread-safe: reloads are serialized; calls keep being evaluated against the old set until
 * the new one is swapped in, never against a partly loaded one.
 */
public final class PolicySource implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PolicySource.class);

  private final SafeRun safeRun;
  private final List<Path> paths;
  private final Consumer<List<Problem>> onError;
  private final FileWatcher watcher;
  private volatile List<Problem> lastError = List.of();

  private PolicySource(SafeRun safeRun, List<Path> paths, Duration debounce,
      Consumer<List<Problem>> onError, boolean watch) throws IOException {
    this.safeRun = safeRun;
    this.paths = List.copyOf(paths);
    this.onError = onError;
    this.watcher = watch ? new FileWatcher(new LinkedHashSet<>(paths), safeRun.clock(), debounce,
        this::reloadNow, "saferun-policy-watch") : null;
  }

  /**
   * Loads the policies now and keeps watching them.
   *
   * @throws PolicyConfigException when the initial load fails (nothing was swapped in)
   */
  public static PolicySource watch(SafeRun safeRun, Path... paths) {
    return builder(safeRun, paths).start();
  }

  public static Builder builder(SafeRun safeRun, Path... paths) {
    return new Builder(safeRun, Arrays.asList(paths));
  }

  /**
   * Loads every policy file under the paths, in order (see the class description).
   *
   * @throws PolicyConfigException for the first file that does not load
   */
  public static PolicySet load(List<Path> paths) {
    List<Policy> policies = new ArrayList<>();
    for (Path f : files(paths)) {
      policies.add(PolicyLoader.load(f));
    }
    if (policies.isEmpty()) {
      throw new PolicyConfigException(List.of(new Problem(String.valueOf(paths), 0, 0, "",
          "no policy files found (*.yaml, *.yml; *.test.yaml are skipped)", false)));
    }
    return PolicySet.of(policies);
  }

  /** The policy files the paths name, in load order. */
  public static List<Path> files(List<Path> paths) {
    List<Path> out = new ArrayList<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.walk(p)) {
          out.addAll(s.filter(Files::isRegularFile)
              .filter(f -> {
                String n = f.getFileName().toString();
                return (n.endsWith(".yaml") || n.endsWith(".yml")) && !n.endsWith(".test.yaml")
                    && !n.endsWith(".test.yml");
              })
              .sorted().collect(Collectors.toList()));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot list " + p, e);
        }
      } else {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * Loads the files now and swaps the set in if it loads and differs from the one in force.
   *
   * @return the problems when it did not load (the previous set stays in force), else empty
   */
  public synchronized List<Problem> reloadNow() {
    PolicySet next;
    try {
      next = load(paths);
      if (changedWhileLoading(next)) {
        // A file is being written: what we read may be partial. The next change event (or the
        // rescheduled check) loads it once it has settled.
        LOG.info("[SAFERUN] policy files changed while loading; waiting for them to settle");
        safeRun.clock().schedule(safeRun.clock().wallMillis() + 250, this::reloadNow);
        return List.of();
      }
      if (next.version().equals(safeRun.policies().version())) {
        lastError = List.of();
        return List.of();
      }
      safeRun.reload(next);
    } catch (PolicyConfigException e) {
      reject(e.problems());
      return e.problems();
    } catch (RuntimeException e) {
      List<Problem> ps = List.of(new Problem(String.valueOf(paths), 0, 0, "",
          "cannot load policies: " + e, false));
      reject(ps);
      return ps;
    }
    lastError = List.of();
    String versions = next.policies().stream()
        .map(p -> p.name() + "@" + p.version().substring(0, Math.min(12, p.version().length())))
        .collect(Collectors.joining(", "));
    LOG.info("[SAFERUN] policies reloaded: {}", versions);
    safeRun.systemEvent(AuditEvent.Type.POLICY_RELOADED, "*", "Policies reloaded: " + versions,
        null);
    return List.of();
  }

  /** Whether any file's bytes now differ from the bytes its loaded policy was made from. */
  private boolean changedWhileLoading(PolicySet set) {
    for (Policy p : set.policies()) {
      try {
        byte[] now = Files.readAllBytes(Path.of(p.source()));
        String hash = java.util.HexFormat.of().formatHex(
            java.security.MessageDigest.getInstance("SHA-256").digest(now));
        if (!hash.equals(p.version())) {
          return true;
        }
      } catch (IOException | java.security.NoSuchAlgorithmException | RuntimeException e) {
        return true;
      }
    }
    return false;
  }

  private void reject(List<Problem> problems) {
    lastError = List.copyOf(problems);
    try {
      onError.accept(problems);
    } catch (RuntimeException e) {
      LOG.warn("Policy reload error listener failed", e);
    }
    List<Problem> errors = problems.stream().filter(p -> !p.warning()).collect(Collectors.toList());
    String first = errors.isEmpty() ? "unknown error" : errors.get(0).toString();
    LOG.error("[SAFERUN] policy reload rejected, previous policies stay in force:\n{}",
        errors.stream().map(Problem::toString).collect(Collectors.joining("\n")));
    safeRun.systemEvent(AuditEvent.Type.POLICY_REJECTED, "*",
        "Policy reload rejected (previous policies stay in force): " + first
            + (errors.size() > 1 ? " (+" + (errors.size() - 1) + " more)" : ""), null);
  }

  /** The problems of the last rejected reload, or empty when the last one succeeded. */
  public List<Problem> lastError() {
    return lastError;
  }

  /** Stops watching. */
  @Override
  public void close() {
    if (watcher != null) {
      watcher.close();
    }
  }

  /** Configures a {@link PolicySource}. Not thread-safe. */
  public static final class Builder {
    private final SafeRun safeRun;
    private final List<Path> paths;
    private Duration debounce = Duration.ofMillis(250);
    private Consumer<List<Problem>> onError = p -> { };
    private boolean watch = true;

    private Builder(SafeRun safeRun, List<Path> paths) {
      this.safeRun = Objects.requireNonNull(safeRun, "safeRun");
      if (paths.isEmpty()) {
        throw new IllegalArgumentException("PolicySource needs at least one file or directory");
      }
      this.paths = List.copyOf(paths);
    }

    /** How long changes must settle before reloading. Default 250 ms. */
    public Builder debounce(Duration debounce) {
      this.debounce = Objects.requireNonNull(debounce, "debounce");
      return this;
    }

    /** Called with the problems of every rejected reload. */
    public Builder onError(Consumer<List<Problem>> onError) {
      this.onError = Objects.requireNonNull(onError, "onError");
      return this;
    }

    /** Whether to watch the files (default true); without, call {@link #reloadNow()}. */
    public Builder watch(boolean watch) {
      this.watch = watch;
      return this;
    }

    /**
     * Loads the policies, swaps them in, and starts watching.
     *
     * @throws PolicyConfigException when the initial load fails
     */
    public PolicySource start() {
      safeRun.reload(load(paths));
      try {
        return new PolicySource(safeRun, paths, debounce, onError, watch);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot watch " + paths, e);
      }
    }
  }
}
