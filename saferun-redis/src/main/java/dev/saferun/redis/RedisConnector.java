package dev.saferun.redis;

import dev.saferun.spi.StateStoreException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Lettuce client and its shared, multiplexed connection, configured to fail fast and never
 * replay: commands time out after the command timeout, commands issued while disconnected are
 * rejected at once, and commands in flight when the connection drops fail instead of being sent
 * again after reconnect (a replayed charge would charge a call that was denied). The first
 * connection is made lazily, by one thread at a time; later outages are healed by Lettuce's
 * reconnect.
 *
 * <p>Standalone (or Sentinel) and Redis Cluster share one code path: both expose {@link
 * RedisClusterCommands}, the command interface common to a {@code RedisCommands} and a {@code
 * RedisAdvancedClusterCommands}. In a cluster Lettuce routes {@code EVALSHA}/{@code EVAL} by the
 * script's first key, so a script runs (and, after {@code NOSCRIPT}, is loaded by {@code EVAL})
 * on the node that owns the prefix's slot; a {@code MOVED} or {@code ASK} reply is followed to
 * the right node (safe: a redirected command did not run) and triggers a topology refresh.
 * Thread-safe.
 */
final class RedisConnector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RedisConnector.class);

  private final RedisURI uri;
  private final List<RedisURI> clusterNodes;
  private final String where;
  private final Duration commandTimeout;
  private final Duration connectTimeout;
  private final ClientResources resources;
  private final boolean ownsResources;
  private final AbstractRedisClient client;
  private final ReentrantLock connecting = new ReentrantLock();
  private final Runnable onFirstConnect;
  private volatile StatefulConnection<String, String> connection;
  private volatile RedisClusterCommands<String, String> commands;
  private volatile boolean closed;

  RedisConnector(Settings s, Runnable onFirstConnect) {
    this.uri = s.uri;
    this.clusterNodes = s.clusterNodes;
    this.where = clusterNodes == null ? describe(s.uri) : describeCluster(clusterNodes);
    this.commandTimeout = s.commandTimeout;
    this.connectTimeout = s.connectTimeout;
    this.onFirstConnect = onFirstConnect;
    if (s.resources != null) {
      this.resources = s.resources;
      this.ownsResources = false;
    } else {
      this.resources = DefaultClientResources.builder()
          .reconnectDelay(Delay.exponential(Duration.ofMillis(10), s.maxReconnectDelay, 2,
              TimeUnit.MILLISECONDS))
          .build();
      this.ownsResources = true;
    }
    // Never replay: a command written before the connection dropped may have run.
    java.util.function.Predicate<io.lettuce.core.protocol.RedisCommand<?, ?, ?>> noReplay =
        command -> true;
    SocketOptions socket = SocketOptions.builder().connectTimeout(s.connectTimeout)
        .keepAlive(true).build();
    if (clusterNodes == null) {
      RedisClient standalone = RedisClient.create(resources);
      standalone.setOptions(ClientOptions.builder()
          .autoReconnect(true)
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
          .replayFilter(noReplay)
          .requestQueueSize(s.requestQueueSize)
          .timeoutOptions(TimeoutOptions.enabled(s.commandTimeout))
          .socketOptions(socket)
          .build());
      this.client = standalone;
      // The handshake of a new connection (HELLO, PING) gets the connect timeout: a cold JVM
      // can need more than a command timeout for its first connection.
      uri.setTimeout(s.connectTimeout);
    } else {
      for (RedisURI node : clusterNodes) {
        node.setTimeout(s.connectTimeout);
      }
      RedisClusterClient cluster = RedisClusterClient.create(resources, clusterNodes);
      ClusterClientOptions.Builder options = ClusterClientOptions.builder()
          .autoReconnect(true)
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
          .requestQueueSize(s.requestQueueSize)
          .timeoutOptions(TimeoutOptions.enabled(s.commandTimeout))
          .socketOptions(socket)
          .maxRedirects(5)
          .validateClusterNodeMembership(true)
          // MOVED, ASK, a node that refuses connections or keeps reconnecting: re-read the
          // topology at once (at most every 500 ms), so a moved slot costs one redirection.
          .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
              .enableAllAdaptiveRefreshTriggers()
              .adaptiveRefreshTriggersTimeout(Duration.ofMillis(500))
              .enablePeriodicRefresh(Duration.ofSeconds(60))
              .build());
      // replayFilter is declared on ClientOptions.Builder only; it sets this builder's field.
      options.replayFilter(noReplay);
      cluster.setOptions(options.build());
      this.client = cluster;
    }
  }

  /** Connection settings common to both stores. Not thread-safe (a builder's state). */
  static final class Settings {
    /** The standalone or Sentinel URI; null in cluster mode. */
    RedisURI uri;
    /** Seed nodes in cluster mode, else null. */
    List<RedisURI> clusterNodes;
    Duration commandTimeout = Duration.ofMillis(250);
    Duration connectTimeout = Duration.ofSeconds(1);
    Duration maxReconnectDelay = Duration.ofSeconds(1);
    int requestQueueSize = 10_000;
    ClientResources resources;

    Settings copy() {
      Settings c = new Settings();
      c.uri = uri == null ? null : RedisURI.builder(uri).build();
      if (clusterNodes != null) {
        c.clusterNodes = new ArrayList<>();
        for (RedisURI node : clusterNodes) {
          c.clusterNodes.add(RedisURI.builder(node).build());
        }
      }
      c.commandTimeout = commandTimeout;
      c.connectTimeout = connectTimeout;
      c.maxReconnectDelay = maxReconnectDelay;
      c.requestQueueSize = requestQueueSize;
      c.resources = resources;
      return c;
    }
  }

  static RedisURI parse(String uri) {
    try {
      return RedisURI.create(uri);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Redis URI must look like redis://host:port, got '"
          + uri + "'", e);
    }
  }

  /**
   * Parses the seed nodes of a cluster: at least one {@code redis://host:port} (or {@code
   * rediss://}); Sentinel and Unix-socket URIs are refused.
   */
  static List<RedisURI> parseCluster(List<String> nodes) {
    if (nodes == null || nodes.isEmpty()) {
      throw new IllegalArgumentException("clusterBuilder needs at least one node URI such as "
          + "redis://host:7000, got " + nodes);
    }
    List<RedisURI> out = new ArrayList<>(nodes.size());
    for (String node : nodes) {
      if (node == null) {
        throw new IllegalArgumentException("cluster node URIs must not be null, got " + nodes);
      }
      RedisURI u = parse(node);
      if (u.getHost() == null || u.getSocket() != null || !u.getSentinels().isEmpty()) {
        throw new IllegalArgumentException("a Redis Cluster node URI must look like "
            + "redis://host:port or rediss://host:port, got '" + node + "'");
      }
      out.add(u);
    }
    return out;
  }

  /**
   * Refuses, in cluster mode, a key prefix without a hash tag. Every script gets all of a
   * call's keys at once (and the approval scripts build record keys from ids), which Redis
   * Cluster allows only when they are in one slot; a non-empty {@code {tag}} inside the prefix
   * decides the slot of every key whatever follows it.
   */
  static String requireHashTag(String prefix) {
    int open = prefix.indexOf('{');
    int close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
    if (close < 0 || close == open + 1) {
      throw new IllegalArgumentException("keyPrefix '" + prefix + "' has no hash tag: in Redis "
          + "Cluster mode the prefix must contain a non-empty {tag} (for example '{saferun}:' "
          + "or '{saferun:prod}:'), because each script reads and writes all of a call's keys "
          + "at once and Redis Cluster runs a script only when its keys are in one hash slot "
          + "(CROSSSLOT otherwise)");
    }
    return prefix;
  }

  static Duration positive(String option, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(option + " must be a positive duration, got " + d);
    }
    return d;
  }

  boolean cluster() {
    return clusterNodes != null;
  }

  ClientResources resources() {
    return resources;
  }

  Duration commandTimeout() {
    return commandTimeout;
  }

  /** Host and port, for messages (never the password). */
  String where() {
    return where;
  }

  /**
   * Connects now if possible; when Redis is unreachable, logs it and leaves the connection to
   * the first call (which is denied until Redis answers).
   */
  void tryConnect() {
    try {
      commands();
    } catch (StateStoreException e) {
      LOG.warn("Redis at {} unavailable at start: {}; SafeRun denies calls that need it until "
          + "it answers", where, e.getMessage());
    }
  }

  /**
   * The synchronous commands, connecting first if needed: a {@code RedisCommands} or, in
   * cluster mode, a {@code RedisAdvancedClusterCommands} (which routes by key).
   */
  RedisClusterCommands<String, String> commands() {
    RedisClusterCommands<String, String> c = commands;
    if (c == null) {
      c = connect();
    }
    return c;
  }

  /**
   * Opens a pub/sub connection: to the Redis of the URI, or in cluster mode to one node (a
   * cluster broadcasts {@code PUBLISH} to every node, so any node sees every message).
   */
  CompletionStage<StatefulRedisPubSubConnection<String, String>> connectPubSubAsync() {
    if (client instanceof RedisClusterClient cluster) {
      return cluster.connectPubSubAsync(StringCodec.UTF8)
          .thenApply(c -> (StatefulRedisPubSubConnection<String, String>) c);
    }
    return ((RedisClient) client).connectPubSubAsync(StringCodec.UTF8, uri);
  }

  private RedisClusterCommands<String, String> connect() {
    if (closed) {
      throw new StateStoreException("Redis store for " + where + " is closed", null);
    }
    // One thread connects; the others wait for it, at most one connect timeout.
    boolean locked;
    try {
      locked = connecting.tryLock(connectTimeout.toMillis() + commandTimeout.toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StateStoreException("Interrupted while connecting to Redis at " + where, e);
    }
    if (!locked) {
      throw new StateStoreException("Redis at " + where + " is not connected yet", null);
    }
    try {
      RedisClusterCommands<String, String> cmd = commands;
      if (cmd != null) {
        return cmd;
      }
      StatefulConnection<String, String> c;
      try {
        if (client instanceof RedisClusterClient cluster) {
          StatefulRedisClusterConnection<String, String> cc = cluster.connect(StringCodec.UTF8);
          cmd = cc.sync();
          c = cc;
        } else {
          StatefulRedisConnection<String, String> sc =
              ((RedisClient) client).connect(StringCodec.UTF8, uri);
          cmd = sc.sync();
          c = sc;
        }
      } catch (RedisException e) {
        throw unavailable(e);
      }
      c.setTimeout(commandTimeout);
      connection = c;
      commands = cmd;
      try {
        onFirstConnect.run();
      } catch (RuntimeException e) {
        commands = null;
        connection = null;
        c.closeAsync();
        throw e;
      }
      LOG.info("SafeRun connected to Redis at {}", where);
      return cmd;
    } finally {
      connecting.unlock();
    }
  }

  /** Runs a script by its digest, loading it first if the server does not know it. */
  <T> T eval(LuaScript script, ScriptOutputType type, String[] keys, String... args) {
    try {
      RedisClusterCommands<String, String> cmd = commands();
      try {
        // In a cluster both EVALSHA and EVAL go to the node owning the first key's slot.
        return cmd.evalsha(script.sha(), type, keys, args);
      } catch (RedisNoScriptException e) {
        // A restarted or flushed server: the script did not run, so running it now is safe.
        return cmd.eval(script.body(), type, keys, args);
      }
    } catch (RedisException e) {
      throw unavailable(e);
    }
  }

  StateStoreException unavailable(RuntimeException e) {
    if (e instanceof StateStoreException) {
      return (StateStoreException) e;
    }
    if (e instanceof RedisCommandTimeoutException) {
      return new StateStoreException("Redis at " + where + " did not answer within "
          + commandTimeout.toMillis() + " ms", e);
    }
    String m = e.getMessage();
    Throwable cause = e.getCause();
    while (cause != null && cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    if (cause != null && cause.getMessage() != null && (m == null
        || !m.contains(cause.getMessage()))) {
      m = m == null ? cause.getMessage() : m + ": " + cause.getMessage();
    }
    return new StateStoreException("Redis at " + where + " failed: " + m, e);
  }

  @Override
  public void close() {
    closed = true;
    StatefulConnection<String, String> c = connection;
    if (c != null) {
      c.close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    if (ownsResources) {
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  private static String describeCluster(List<RedisURI> nodes) {
    StringBuilder b = new StringBuilder("cluster ");
    for (int i = 0; i < nodes.size(); i++) {
      b.append(i == 0 ? "" : ",").append(nodes.get(i).getHost()).append(':')
          .append(nodes.get(i).getPort());
    }
    return b.toString();
  }

  private static String describe(RedisURI uri) {
    if (uri.getSocket() != null) {
      return uri.getSocket();
    }
    if (uri.getHost() != null) {
      return uri.getHost() + ":" + uri.getPort();
    }
    if (!uri.getSentinels().isEmpty()) {
      return "sentinel master " + uri.getSentinelMasterId();
    }
    return uri.toString();
  }
}
