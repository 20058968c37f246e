package dev.saferun.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Redis for tests. When a {@code redis-server} binary is on the PATH (or at
 * {@code /usr/bin/redis-server}), the tests start their own on a free loopback port, so they can
 * kill, pause and restart it; otherwise they use {@code SAFERUN_TEST_REDIS} (a redis:// URI),
 * and tests that need to control the server are skipped; with neither, every Redis test is
 * skipped with a message saying why. Thread-safe.
 */
final class TestRedis implements AutoCloseable {
  static final String ENV = "SAFERUN_TEST_REDIS";
  /**
   * Command timeout of stores in tests that are not about timeouts: a loaded 2-core CI machine
   * can stall a command past the 250 ms default.
   */
  static final java.time.Duration RELAXED = java.time.Duration.ofSeconds(2);
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  private static TestRedis shared;

  private final String binary;
  private final Path dir;
  private final boolean persistent;
  private final String externalUri;
  private int port;
  private Process process;
  private final List<String> output = new ArrayList<>();
  private RedisClient adminClient;
  private StatefulRedisConnection<String, String> admin;

  private TestRedis(String binary, Path dir, boolean persistent, String externalUri) {
    this.binary = binary;
    this.dir = dir;
    this.persistent = persistent;
    this.externalUri = externalUri;
  }

  /** The redis-server binary, or null. */
  static String binary() {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(java.io.File.pathSeparator)) {
        Path p = Path.of(d, "redis-server");
        if (Files.isExecutable(p)) {
          return p.toString();
        }
      }
    }
    return Files.isExecutable(Path.of("/usr/bin/redis-server")) ? "/usr/bin/redis-server" : null;
  }

  /** One server for the whole test JVM: started here if possible, else SAFERUN_TEST_REDIS. */
  static synchronized TestRedis shared() {
    if (shared == null) {
      String bin = binary();
      if (bin != null) {
        shared = startOwn(false);
        Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
      } else {
        String uri = System.getenv(ENV);
        Assumptions.assumeTrue(uri != null && !uri.isBlank(), "Redis tests skipped: no "
            + "redis-server binary on the PATH and " + ENV + " is not set (install redis-server, "
            + "or set " + ENV + "=redis://host:port)");
        shared = new TestRedis(null, null, false, uri);
      }
    }
    return shared;
  }

  /**
   * A server of this test's own, which it may kill and restart. Skips the test when no binary
   * is installed.
   *
   * @param persistent keep data across a kill (append-only file, fsync on every write)
   */
  static TestRedis startOwn(boolean persistent) {
    return startOwnOn(0, persistent);
  }

  /** Like {@link #startOwn} on a given port (0: a free one), without persistence. */
  static TestRedis startOwnOn(int port) {
    return startOwnOn(port, false);
  }

  private static TestRedis startOwnOn(int port, boolean persistent) {
    String bin = binary();
    Assumptions.assumeTrue(bin != null, "test skipped: it kills and restarts Redis, which needs "
        + "a redis-server binary on the PATH (" + ENV + " cannot be used for it)");
    try {
      TestRedis r = new TestRedis(bin, Files.createTempDirectory("saferun-redis"), persistent,
          null);
      r.port = port == 0 ? freePort() : port;
      r.start();
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting redis-server", e);
    }
  }

  /** A key prefix no other test uses. */
  static String uniquePrefix(String name) {
    return "{t" + PREFIXES.incrementAndGet() + "-" + name + "-" + ProcessHandle.current().pid()
        + "}:";
  }

  boolean controllable() {
    return externalUri == null;
  }

  String uri() {
    return externalUri != null ? externalUri : "redis://127.0.0.1:" + port;
  }

  /** An administrative connection (INFO, CONFIG, PTTL) with a generous timeout. */
  synchronized RedisCommands<String, String> admin() {
    if (admin == null || !admin.isOpen()) {
      RedisURI u = RedisURI.create(uri());
      u.setTimeout(Duration.ofSeconds(10));
      adminClient = RedisClient.create(u);
      admin = adminClient.connect();
    }
    return admin.sync();
  }

  /** Calls of one command since the last CONFIG RESETSTAT, from INFO commandstats. */
  long calls(String command) {
    String info = admin().info("commandstats");
    String prefix = "cmdstat_" + command.toLowerCase(Locale.ROOT) + ":calls=";
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(prefix)) {
        return Long.parseLong(line.substring(prefix.length(), line.indexOf(',')));
      }
    }
    return 0;
  }

  /** Every command's calls since the last CONFIG RESETSTAT. */
  Map<String, Long> allCalls() {
    Map<String, Long> out = new java.util.TreeMap<>();
    for (String line : admin().info("commandstats").split("\r?\n")) {
      if (line.startsWith("cmdstat_")) {
        out.put(line.substring(8, line.indexOf(':')), Long.parseLong(
            line.substring(line.indexOf("calls=") + 6, line.indexOf(','))));
      }
    }
    return out;
  }

  /** SIGKILL: the server dies at once, connections reset. */
  synchronized void kill() throws InterruptedException {
    requireControl();
    closeAdmin();
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** Starts the server again on the same port (and, when persistent, with the same data). */
  synchronized void restart() throws IOException, InterruptedException {
    requireControl();
    start();
  }

  /** SIGSTOP: the server keeps its connections but answers nothing. */
  void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause}. */
  void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String sig) throws IOException, InterruptedException {
    requireControl();
    Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid()))
        .redirectErrorStream(true).start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("kill -" + sig + " failed");
    }
  }

  private void requireControl() {
    if (!controllable()) {
      throw new IllegalStateException("this Redis (" + externalUri + ") is not controlled by "
          + "the tests");
    }
  }

  private void start() throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(binary, "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--dir", dir.toString(), "--save", "", "--daemonize", "no",
        "--loglevel", "notice"));
    if (persistent) {
      cmd.addAll(List.of("--appendonly", "yes", "--appendfsync", "always"));
    } else {
      cmd.addAll(List.of("--appendonly", "no"));
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Process p = pb.start();
    CountDownLatch ready = new CountDownLatch(1);
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          synchronized (output) {
            output.add(line);
          }
          if (line.contains("Ready to accept connections")) {
            ready.countDown();
          }
        }
      } catch (IOException e) {
        // process ended
      }
    }, "redis-server-output-" + port);
    reader.setDaemon(true);
    reader.start();
    if (!ready.await(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      synchronized (output) {
        throw new IllegalStateException("redis-server did not start on port " + port + ":\n"
            + String.join("\n", output));
      }
    }
    this.process = p;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private synchronized void closeAdmin() {
    if (admin != null) {
      admin.close();
      adminClient.shutdown(Duration.ZERO, Duration.ofSeconds(1));
      admin = null;
      adminClient = null;
    }
  }

  @Override
  public synchronized void close() {
    closeAdmin();
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
