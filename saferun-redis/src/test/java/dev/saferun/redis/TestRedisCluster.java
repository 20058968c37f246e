package dev.saferun.redis;

import io.lettuce.core.MigrateArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real three-master Redis Cluster for tests, on free loopback ports: three {@code
 * redis-server --cluster-enabled yes} processes joined with {@code redis-cli --cluster create},
 * ready once every node reports {@code cluster_state:ok}. {@link #close} kills the processes and
 * deletes their directory. Tests are skipped when {@code redis-server} or {@code redis-cli} is
 * not installed. Thread-safe.
 */
final class TestRedisCluster implements AutoCloseable {
  static final int NODES = 3;

  private final Path dir;
  private final int[] ports = new int[NODES];
  private final List<Process> processes = new ArrayList<>();
  private final RedisClient[] adminClients = new RedisClient[NODES];
  private final List<StatefulRedisConnection<String, String>> admins = new ArrayList<>();

  private TestRedisCluster(Path dir) {
    this.dir = dir;
  }

  private static TestRedisCluster shared;

  /**
   * One cluster for the whole test JVM, started on first use and stopped at exit (tests use
   * their own key prefixes, so they do not see each other's keys); skips the test when the
   * binaries are missing.
   */
  static synchronized TestRedisCluster shared() {
    if (shared == null) {
      shared = start();
      Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
    }
    return shared;
  }

  /** Starts a cluster; skips the test when the binaries are missing. */
  static TestRedisCluster start() {
    String server = TestRedis.binary();
    Assumptions.assumeTrue(server != null, "Redis Cluster tests skipped: no redis-server on "
        + "the PATH");
    Path cli = Path.of(server).resolveSibling("redis-cli");
    Assumptions.assumeTrue(Files.isExecutable(cli), "Redis Cluster tests skipped: no "
        + "redis-cli next to " + server);
    TestRedisCluster c = null;
    try {
      long t0 = System.nanoTime();
      c = new TestRedisCluster(Files.createTempDirectory("saferun-redis-cluster"));
      c.boot(server, cli.toString());
      System.out.println("Redis Cluster of " + NODES + " masters on ports " + c.ports[0] + ", "
          + c.ports[1] + ", " + c.ports[2] + " ready in "
          + (System.nanoTime() - t0) / 1_000_000 + " ms");
      return c;
    } catch (IOException e) {
      if (c != null) {
        c.close();
      }
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      c.close();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting a Redis Cluster", e);
    } catch (RuntimeException e) {
      if (c != null) {
        c.close();
      }
      throw e;
    }
  }

  private void boot(String server, String cli) throws IOException, InterruptedException {
    for (int i = 0; i < NODES; i++) {
      ports[i] = freeClusterPort();
      Path log = dir.resolve("redis-" + ports[i] + ".log");
      processes.add(new ProcessBuilder(server, "--port", Integer.toString(ports[i]),
          "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file",
          "nodes-" + ports[i] + ".conf", "--save", "", "--appendonly", "no", "--dir",
          dir.toString(), "--daemonize", "no", "--loglevel", "warning")
          .redirectErrorStream(true).redirectOutput(log.toFile()).start());
    }
    for (int i = 0; i < NODES; i++) {
      awaitPing(i);
    }
    List<String> create = new ArrayList<>(List.of(cli, "--cluster", "create"));
    for (int port : ports) {
      create.add("127.0.0.1:" + port);
    }
    create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
    Process p = new ProcessBuilder(create).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("redis-cli --cluster create failed:\n" + out);
    }
    awaitClusterOk();
  }

  // The two waits below poll real redis-server processes (start-up, cluster join): real time,
  // not a FakeClock, is what those processes run on; both are bounded (20 s) and fail loudly.

  private void awaitPing(int node) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        node(node).ping();
        return;
      } catch (RuntimeException e) {
        last = e;
        closeAdmin(node);
        Thread.sleep(20);
      }
    }
    throw new IllegalStateException("redis-server on port " + ports[node] + " did not start",
        last);
  }

  /** Waits until every node reports cluster_state:ok and agrees on all 16384 slots. */
  void awaitClusterOk() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      boolean ok = true;
      for (int i = 0; i < NODES && ok; i++) {
        String info = node(i).clusterInfo();
        ok = info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384");
      }
      if (ok) {
        return;
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("Redis Cluster on ports " + ports[0] + "-" + ports[NODES - 1]
        + " did not reach cluster_state:ok:\n" + node(0).clusterInfo());
  }

  /** {@code redis://127.0.0.1:port} of one node. */
  String uri(int node) {
    return "redis://127.0.0.1:" + ports[node];
  }

  /** Every node's URI. */
  List<String> uris() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      out.add(uri(i));
    }
    return out;
  }

  /** An administrative connection to one node (not cluster-aware), with a generous timeout. */
  synchronized RedisCommands<String, String> node(int node) {
    if (adminClients[node] == null) {
      RedisURI u = RedisURI.create(uri(node));
      u.setTimeout(Duration.ofSeconds(10));
      adminClients[node] = RedisClient.create(u);
      StatefulRedisConnection<String, String> c = adminClients[node].connect();
      while (admins.size() <= node) {
        admins.add(null);
      }
      admins.set(node, c);
    }
    return admins.get(node).sync();
  }

  /** The slot of a key (or of a prefix's hash tag). */
  int slot(String key) {
    return node(0).clusterKeyslot(key).intValue();
  }

  /** The index of the node that serves a slot now. */
  int owner(int slot) {
    for (int i = 0; i < NODES; i++) {
      String id = node(i).clusterMyId();
      for (String line : node(i).clusterNodes().split("\n")) {
        if (line.startsWith(id + " ") && servesSlot(line, slot)) {
          return i;
        }
      }
    }
    throw new IllegalStateException("no node serves slot " + slot);
  }

  private static boolean servesSlot(String nodesLine, int slot) {
    String[] f = nodesLine.trim().split(" ");
    for (int i = 8; i < f.length; i++) {
      if (f[i].startsWith("[")) {
        continue;
      }
      String[] range = f[i].split("-");
      int lo = Integer.parseInt(range[0]);
      int hi = range.length == 2 ? Integer.parseInt(range[1]) : lo;
      if (slot >= lo && slot <= hi) {
        return true;
      }
    }
    return false;
  }

  /** A key prefix no other test uses whose hash tag's slot is served by the given node. */
  String prefixOn(int node, String name) {
    while (true) {
      String prefix = TestRedis.uniquePrefix(name);
      if (owner(slot(prefix)) == node) {
        return prefix;
      }
    }
  }

  /**
   * Moves a slot and its keys to another node, the way {@code redis-cli --cluster reshard}
   * does: IMPORTING/MIGRATING, MIGRATE key by key, then SETSLOT NODE on every node.
   */
  void migrate(int slot, int to) {
    int from = owner(slot);
    if (from == to) {
      return;
    }
    String fromId = node(from).clusterMyId();
    String toId = node(to).clusterMyId();
    node(to).clusterSetSlotImporting(slot, fromId);
    node(from).clusterSetSlotMigrating(slot, toId);
    List<String> keys;
    while (!(keys = node(from).clusterGetKeysInSlot(slot, 100)).isEmpty()) {
      node(from).migrate("127.0.0.1", ports[to], 0, 5_000,
          MigrateArgs.Builder.keys(keys));
    }
    node(to).clusterSetSlotNode(slot, toId);
    node(from).clusterSetSlotNode(slot, toId);
    for (int i = 0; i < NODES; i++) {
      if (i != from && i != to) {
        node(i).clusterSetSlotNode(slot, toId);
      }
    }
  }

  /** {@code SCRIPT FLUSH} on every node, as after a restart of the whole cluster. */
  void flushScripts() {
    for (int i = 0; i < NODES; i++) {
      node(i).scriptFlush();
    }
  }

  /** CONFIG RESETSTAT on every node. */
  void resetStats() {
    for (int i = 0; i < NODES; i++) {
      node(i).configResetstat();
    }
  }

  /** Calls of one command on one node since the last {@link #resetStats}. */
  long calls(int node, String command) {
    String prefix = "cmdstat_" + command.toLowerCase(Locale.ROOT) + ":calls=";
    for (String line : node(node).info("commandstats").split("\r?\n")) {
      if (line.startsWith(prefix)) {
        return Long.parseLong(line.substring(prefix.length(), line.indexOf(',')));
      }
    }
    return 0;
  }

  /** A port P with P and its cluster bus port P + 10000 both free. */
  private static int freeClusterPort() throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      int p = ThreadLocalRandom.current().nextInt(20_000, 30_000);
      if (free(p) && free(p + 10_000)) {
        return p;
      }
    }
    throw new IllegalStateException("no free port pair for a cluster node");
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return s.isBound();
    } catch (IOException e) {
      return false;
    }
  }

  private synchronized void closeAdmin(int node) {
    if (adminClients[node] != null) {
      if (admins.size() > node && admins.get(node) != null) {
        admins.get(node).close();
        admins.set(node, null);
      }
      adminClients[node].shutdown(Duration.ZERO, Duration.ofSeconds(1));
      adminClients[node] = null;
    }
  }

  @Override
  public synchronized void close() {
    for (int i = 0; i < NODES; i++) {
      closeAdmin(i);
    }
    for (Process p : processes) {
      p.destroyForcibly();
    }
    for (Process p : processes) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // best effort: a temporary directory
    }
  }
}
