package dev.saferun.springai.autoconfigure;

import dev.saferun.SafeRun;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Reloads SafeRun's policies when a policy file on the file system changes: watches the
 * directories of the {@link SafeRunPolicies#files() file resources} and, once changes have been
 * quiet for the debounce interval, calls {@link SafeRunPolicies#reload(SafeRun)}, which keeps the
 * set in force when a file fails to load. Any change in a watched directory triggers a reload
 * attempt (editors and Kubernetes config maps replace files by renaming); an unchanged set is
 * not swapped. Resources inside jars are not watched.
 *
 * <p>Runs one daemon thread, {@code saferun-policy-watcher}, between {@link #start()} and
 * {@link #stop()}. Thread-safe.
 */
public final class PolicyFileWatcher implements SmartLifecycle {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyFileWatcher.class);

  private final SafeRunPolicies policies;
  private final SafeRun safeRun;
  private final Duration debounce;
  private WatchService watcher;
  private Thread thread;
  private volatile boolean running;

  /** A watcher that reloads {@code policies} into {@code safeRun}. */
  public PolicyFileWatcher(SafeRunPolicies policies, SafeRun safeRun, Duration debounce) {
    this.policies = Objects.requireNonNull(policies, "policies");
    this.safeRun = Objects.requireNonNull(safeRun, "safeRun");
    this.debounce = Objects.requireNonNull(debounce, "debounce");
  }

  @Override
  public synchronized void start() {
    if (running) {
      return;
    }
    Set<Path> dirs = new LinkedHashSet<>();
    for (Path f : policies.files()) {
      if (f.getParent() != null) {
        dirs.add(f.getParent());
      }
    }
    if (dirs.isEmpty()) {
      LOG.debug("No SafeRun policy file on the file system; hot reload is off");
      return;
    }
    try {
      watcher = FileSystems.getDefault().newWatchService();
      for (Path d : dirs) {
        d.register(watcher, StandardWatchEventKinds.ENTRY_CREATE,
            StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("Cannot watch SafeRun policy directories {}; hot reload is off", dirs, e);
      closeQuietly();
      return;
    }
    running = true;
    WatchService ws = watcher;
    thread = new Thread(() -> loop(ws), "saferun-policy-watcher");
    thread.setDaemon(true);
    thread.start();
    LOG.info("Watching SafeRun policy files for changes: {}", policies.files());
  }

  private void loop(WatchService ws) {
    try {
      while (running) {
        WatchKey key = ws.take();
        key.pollEvents();
        key.reset();
        // Quiet period: an editor's save is several events.
        WatchKey more;
        while ((more = ws.poll(debounce.toMillis(), TimeUnit.MILLISECONDS)) != null) {
          more.pollEvents();
          more.reset();
        }
        if (running) {
          policies.reload(safeRun);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ClosedWatchServiceException e) {
      // stopped
    } catch (RuntimeException e) {
      LOG.error("SafeRun policy watcher stopped; hot reload is off", e);
    }
  }

  @Override
  public synchronized void stop() {
    running = false;
    closeQuietly();
    if (thread != null) {
      thread.interrupt();
      thread = null;
    }
  }

  private void closeQuietly() {
    if (watcher != null) {
      try {
        watcher.close();
      } catch (IOException e) {
        LOG.debug("Closing the policy watcher failed", e);
      }
      watcher = null;
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
