package dev.saferun.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.Objects;

/**
 * The connection options both Redis stores' builders share: key prefix, timeouts, reconnection,
 * request queue and client resources. Options are checked when set and named in the error. Not
 * thread-safe (a builder's state).
 *
 * @param <B> the concrete builder, returned by every option for chaining
 */
abstract class RedisOptions<B extends RedisOptions<B>> {
  final RedisConnector.Settings settings = new RedisConnector.Settings();
  String keyPrefix = "{saferun}:";

  RedisOptions(RedisURI uri) {
    settings.uri = uri;
  }

  abstract B self();

  /**
   * Prefix of every key (and of the approval decision channel), one per deployment (default
   * {@code {saferun}:}). Replicas that share counters or approvals use the same prefix;
   * different deployments on one Redis use different ones. The braces make it a Redis Cluster
   * hash tag, so all of a deployment's keys share one slot and one script can touch them.
   *
   * @throws IllegalArgumentException when empty; in cluster mode ({@code clusterBuilder}), when
   *     the prefix has no non-empty {@code {tag}}
   */
  public B keyPrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    if (prefix.isEmpty()) {
      throw new IllegalArgumentException("keyPrefix must not be empty");
    }
    if (settings.clusterNodes != null) {
      RedisConnector.requireHashTag(prefix);
    }
    this.keyPrefix = prefix;
    return self();
  }

  /**
   * How long a command may take before the store gives up and SafeRun denies the call
   * (default 250 ms).
   */
  public B commandTimeout(Duration timeout) {
    settings.commandTimeout = RedisConnector.positive("commandTimeout", timeout);
    return self();
  }

  /**
   * How long opening a connection and its handshake may take (default 1 s). Only the first
   * connection is made on a calling thread; reconnections happen in the background while calls
   * are denied at once.
   */
  public B connectTimeout(Duration timeout) {
    settings.connectTimeout = RedisConnector.positive("connectTimeout", timeout);
    return self();
  }

  /**
   * Longest wait between reconnection attempts after Redis went away (default 1 s; attempts
   * start at 10 ms and double). Used only when the store creates its own client resources.
   */
  public B maxReconnectDelay(Duration delay) {
    settings.maxReconnectDelay = RedisConnector.positive("maxReconnectDelay", delay);
    return self();
  }

  /**
   * Most commands waiting for a reply at once (default 10,000); beyond it, calls are denied at
   * once instead of queueing.
   */
  public B requestQueueSize(int size) {
    if (size <= 0) {
      throw new IllegalArgumentException("requestQueueSize must be positive, got " + size);
    }
    settings.requestQueueSize = size;
    return self();
  }

  /**
   * Lettuce client resources (event loops, timers) to share with other Redis clients of the
   * application; they are not shut down when the store closes. Default: the store creates and
   * owns its own.
   */
  public B clientResources(ClientResources resources) {
    settings.resources = Objects.requireNonNull(resources, "resources");
    return self();
  }
}
