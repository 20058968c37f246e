package dev.saferun.internal.controls;

import dev.saferun.Clock;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches files and directories (recursively) and runs a callback once changes have settled for
 * a debounce period measured on the injected clock. One daemon thread per watcher, blocked on the
 * OS's change notifications. Thread-safe.
 */
public final class FileWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FileWatcher.class);

  private final WatchService service;
  private final Clock clock;
  private final Duration debounce;
  private final Runnable onChange;
  private final Thread thread;
  private Clock.Scheduled pending;

  public FileWatcher(Set<Path> paths, Clock clock, Duration debounce, Runnable onChange,
      String name) throws IOException {
    this.service = FileSystems.getDefault().newWatchService();
    this.clock = clock;
    this.debounce = debounce;
    this.onChange = onChange;
    Set<Path> dirs = new LinkedHashSet<>();
    for (Path p : paths) {
      Path abs = p.toAbsolutePath().normalize();
      if (Files.isDirectory(abs)) {
        try (var walk = Files.walk(abs)) {
          walk.filter(Files::isDirectory).forEach(dirs::add);
        }
      } else if (abs.getParent() != null) {
        dirs.add(abs.getParent());
      }
    }
    for (Path d : dirs) {
      d.register(service, StandardWatchEventKinds.ENTRY_CREATE,
          StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
    }
    this.thread = new Thread(this::loop, name);
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    while (true) {
      WatchKey key;
      try {
        key = service.take();
      } catch (InterruptedException | ClosedWatchServiceException e) {
        return;
      }
      key.pollEvents();
      key.reset();
      schedule();
    }
  }

  private synchronized void schedule() {
    if (pending != null) {
      pending.cancel();
    }
    pending = clock.schedule(clock.wallMillis() + debounce.toMillis(), () -> {
      try {
        onChange.run();
      } catch (RuntimeException e) {
        LOG.error("Reacting to a file change failed", e);
      }
    });
  }

  @Override
  public void close() {
    try {
      service.close();
    } catch (IOException e) {
      LOG.warn("Closing the file watcher failed", e);
    }
    thread.interrupt();
  }
}
