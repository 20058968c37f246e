package dev.saferun.redis;

import dev.saferun.spi.StateStoreException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
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
 * reconnect. Thread-safe.
 */
final class RedisConnector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RedisConnector.class);

  private final RedisURI uri;
  private final String where;
  private final Duration commandTimeout;
  private final Duration connectTimeout;
  private final ClientResources resources;
  private final boolean ownsResources;
  private final RedisClient client;
  private final ReentrantLock connecting = new ReentrantLock();
  private final Runnable onFirstConnect;
  private volatile StatefulRedisConnection<String, String> connection;
  private volatile boolean closed;

  RedisConnector(Settings s, Runnable onFirstConnect) {
    this.uri = s.uri;
    this.where = describe(s.uri);
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
    this.client = RedisClient.create(resources);
    client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .replayFilter(command -> true)
        .requestQueueSize(s.requestQueueSize)
        .timeoutOptions(TimeoutOptions.enabled(s.commandTimeout))
        .socketOptions(SocketOptions.builder().connectTimeout(s.connectTimeout)
            .keepAlive(true).build())
        .build());
    // The handshake of a new connection (HELLO, PING) gets the connect timeout: a cold JVM
    // can need more than a command timeout for its first connection.
    uri.setTimeout(s.connectTimeout);
  }

  /** Connection settings common to both stores. Not thread-safe (a builder's state). */
  static final class Settings {
    RedisURI uri;
    Duration commandTimeout = Duration.ofMillis(250);
    Duration connectTimeout = Duration.ofSeconds(1);
    Duration maxReconnectDelay = Duration.ofSeconds(1);
    int requestQueueSize = 10_000;
    ClientResources resources;

    Settings copy() {
      Settings c = new Settings();
      c.uri = RedisURI.builder(uri).build();
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

  static Duration positive(String option, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(option + " must be a positive duration, got " + d);
    }
    return d;
  }

  RedisClient client() {
    return client;
  }

  RedisURI uri() {
    return uri;
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

  /** The synchronous commands, connecting first if needed. */
  RedisCommands<String, String> commands() {
    StatefulRedisConnection<String, String> c = connection;
    if (c == null) {
      c = connect();
    }
    return c.sync();
  }

  private StatefulRedisConnection<String, String> connect() {
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
      StatefulRedisConnection<String, String> c = connection;
      if (c != null) {
        return c;
      }
      try {
        c = client.connect(StringCodec.UTF8, uri);
      } catch (RedisException e) {
        throw unavailable(e);
      }
      c.setTimeout(commandTimeout);
      connection = c;
      try {
        onFirstConnect.run();
      } catch (RuntimeException e) {
        connection = null;
        c.closeAsync();
        throw e;
      }
      LOG.info("SafeRun connected to Redis at {}", where);
      return c;
    } finally {
      connecting.unlock();
    }
  }

  /** Runs a script by its digest, loading it first if the server does not know it. */
  <T> T eval(LuaScript script, ScriptOutputType type, String[] keys, String... args) {
    try {
      RedisCommands<String, String> cmd = commands();
      try {
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
    StatefulRedisConnection<String, String> c = connection;
    if (c != null) {
      c.close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    if (ownsResources) {
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
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
