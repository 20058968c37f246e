package dev.saferun.springai.autoconfigure;

import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.SafeRun;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.policy.SourceLocation;
import dev.saferun.policy.YamlDocument;
import dev.saferun.policy.YamlDocument.Entry;
import dev.saferun.policy.YamlDocument.YMap;
import dev.saferun.policy.YamlDocument.YNode;
import dev.saferun.policy.YamlDocument.YScalar;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.ResourcePatternResolver;

/**
 * The policy files named by {@code saferun.policies}: Spring resource locations
 * ({@code classpath:}, {@code file:}, patterns such as {@code classpath*:policies/*.yaml}),
 * resolved once at startup and loaded, in order, as one {@link PolicySet}. With
 * {@code saferun.mode=shadow} every policy is loaded as a shadow policy (SPEC §7): decisions are
 * audited, nothing is blocked.
 *
 * <p>{@link #reload(SafeRun)} reads the files again and swaps the set in atomically; a file that
 * fails to load leaves the set in force and is logged with {@code file:line:col} (SPEC §8).
 * {@link PolicyFileWatcher} calls it when a file on the file system changes.
 *
 * <p>Thread-safe: reloads are serialized.
 */
public final class SafeRunPolicies {
  private static final Logger LOG = LoggerFactory.getLogger(SafeRunPolicies.class);

  private final List<Source> sources;
  private final boolean shadow;
  private final List<Consumer<ReloadResult>> listeners = new CopyOnWriteArrayList<>();
  private volatile ReloadResult last;

  private SafeRunPolicies(List<Source> sources, boolean shadow) {
    this.sources = List.copyOf(sources);
    this.shadow = shadow;
  }

  /**
   * Resolves locations to resources, in order (a pattern's matches sorted by name).
   *
   * @param shadow load every policy as {@code mode: shadow}
   * @throws PolicyConfigException when a location cannot be resolved or matches nothing
   */
  public static SafeRunPolicies resolve(List<String> locations, ResourcePatternResolver resolver,
      boolean shadow) {
    Objects.requireNonNull(locations, "locations");
    List<Source> sources = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    if (locations.isEmpty()) {
      problems.add(new Problem("saferun.policies", 0, 0, "", "no policy locations are configured;"
          + " set saferun.policies (e.g. classpath:saferun.yaml)", false));
    }
    for (String location : locations) {
      try {
        Resource[] found = resolver.getResources(location.trim());
        List<Resource> existing = new ArrayList<>();
        for (Resource r : found) {
          if (r.exists()) {
            existing.add(r);
          }
        }
        if (existing.isEmpty()) {
          problems.add(new Problem(location, 0, 0, "", "saferun.policies location '" + location
              + "' matches no readable resource", false));
        }
        if (existing.size() > 1) {
          existing.sort((a, b) -> String.valueOf(a.getFilename())
              .compareTo(String.valueOf(b.getFilename())));
        }
        for (Resource r : existing) {
          sources.add(new Source(r, label(r, location, existing.size() == 1)));
        }
      } catch (IOException | RuntimeException e) {
        problems.add(new Problem(location, 0, 0, "", "cannot resolve saferun.policies location '"
            + location + "': " + e.getMessage(), false));
      }
    }
    if (!problems.isEmpty()) {
      throw new PolicyConfigException(problems);
    }
    return new SafeRunPolicies(sources, shadow);
  }

  /**
   * Reads and validates every file now.
   *
   * @throws PolicyConfigException listing the problems of the first file that does not load
   */
  public PolicySet load() {
    List<Policy> policies = new ArrayList<>(sources.size());
    for (Source s : sources) {
      policies.add(s.load(shadow));
    }
    return PolicySet.of(policies);
  }

  /**
   * Loads the files again and, if the set changed, swaps it into {@code safeRun}. A file that
   * fails to load leaves the set in force; the problems are logged at ERROR, one line each as
   * {@code file:line:col: message}, and returned.
   */
  public synchronized ReloadResult reload(SafeRun safeRun) {
    ReloadResult result;
    try {
      PolicySet set = load();
      if (set.version().equals(safeRun.policies().version())) {
        result = new ReloadResult(false, safeRun.policies(), null);
      } else {
        safeRun.reload(set);
        LOG.info("SafeRun policies reloaded: {} (set version {})", describe(set),
            set.version());
        result = new ReloadResult(true, set, null);
      }
    } catch (PolicyConfigException e) {
      LOG.error("SafeRun policies not reloaded; the previous set stays in force:\n{}",
          e.getMessage());
      result = new ReloadResult(false, safeRun.policies(), e.getMessage());
    } catch (RuntimeException e) {
      LOG.error("SafeRun policies not reloaded; the previous set stays in force", e);
      result = new ReloadResult(false, safeRun.policies(), String.valueOf(e));
    }
    last = result;
    for (Consumer<ReloadResult> l : listeners) {
      try {
        l.accept(result);
      } catch (RuntimeException e) {
        LOG.warn("SafeRun reload listener failed", e);
      }
    }
    return result;
  }

  /** Called after every {@link #reload} with its result, on the reloading thread. */
  public void addListener(Consumer<ReloadResult> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** The result of the last reload, or {@code null} if none happened yet. */
  public ReloadResult lastReload() {
    return last;
  }

  /** The resolved resources' labels, in evaluation order (as used in error messages). */
  public List<String> locations() {
    List<String> out = new ArrayList<>(sources.size());
    for (Source s : sources) {
      out.add(s.label);
    }
    return out;
  }

  /** The resources that are files on the file system (those can be watched). */
  public List<Path> files() {
    List<Path> out = new ArrayList<>();
    for (Source s : sources) {
      if (s.resource.isFile()) {
        try {
          out.add(s.resource.getFile().toPath().toAbsolutePath());
        } catch (IOException e) {
          LOG.debug("{} is not watchable", s.label, e);
        }
      }
    }
    return out;
  }

  /** Whether every policy is loaded in shadow mode. */
  public boolean shadow() {
    return shadow;
  }

  private static String describe(PolicySet set) {
    StringBuilder sb = new StringBuilder();
    for (Policy p : set.policies()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(p.name()).append('@').append(p.version(), 0, Math.min(12, p.version().length()));
    }
    return sb.toString();
  }

  private static String label(Resource r, String location, boolean single) {
    try {
      if (r.isFile()) {
        return r.getFile().getPath();
      }
    } catch (IOException e) {
      // fall through
    }
    if (r instanceof ClassPathResource c) {
      return "classpath:" + c.getPath();
    }
    if (single && !location.contains("*")) {
      return location;
    }
    try {
      return r.getURL().toString();
    } catch (IOException e) {
      return r.getDescription();
    }
  }

  /**
   * What one reload did.
   *
   * @param changed whether a new set was swapped in
   * @param policies the set in force afterwards
   * @param error the problems, one per line, when a file failed to load; else {@code null}
   */
  public record ReloadResult(boolean changed, PolicySet policies, String error) {}

  /** One policy resource and its label. */
  private record Source(Resource resource, String label) {
    Policy load(boolean shadow) {
      byte[] bytes;
      try (InputStream in = resource.getInputStream()) {
        bytes = in.readNBytes(YamlDocument.MAX_BYTES + 1);
      } catch (IOException e) {
        throw problem(1, "cannot read policy file: " + e);
      }
      if (bytes.length > YamlDocument.MAX_BYTES) {
        throw problem(1, "file is too large, the limit is " + YamlDocument.MAX_BYTES + " bytes");
      }
      String text;
      try {
        text = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes)).toString();
      } catch (CharacterCodingException e) {
        throw problem(1, "policy file is not valid UTF-8");
      }
      YNode root = YamlDocument.parse(text, label);
      if (shadow && root instanceof YMap map) {
        root = withShadowMode(map);
      }
      return PolicyLoader.fromNode(root, label, bytes, defaultName());
    }

    private String defaultName() {
      String n = resource.getFilename();
      if (n == null || n.isEmpty()) {
        n = label;
      }
      int dot = n.lastIndexOf('.');
      return dot > 0 ? n.substring(0, dot) : n;
    }

    private PolicyConfigException problem(int line, String message) {
      return new PolicyConfigException(List.of(new Problem(label, line, 1, "", message, false)));
    }

    /** The policy mapping with {@code mode: shadow}, keeping every other entry and location. */
    private static YMap withShadowMode(YMap map) {
      List<Entry> entries = new ArrayList<>(map.entries().size() + 1);
      boolean replaced = false;
      for (Entry e : map.entries()) {
        if ("mode".equals(e.key())) {
          entries.add(new Entry(e.key(), e.keyLocation(),
              new YScalar("shadow", e.value().location())));
          replaced = true;
        } else {
          entries.add(e);
        }
      }
      if (!replaced) {
        SourceLocation at = map.location();
        entries.add(new Entry("mode", at, new YScalar("shadow", at)));
      }
      return new YMap(entries, map.location());
    }
  }
}
