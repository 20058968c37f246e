package dev.saferun.redis;

import dev.saferun.approval.ApprovalRecord;
import dev.saferun.spi.ApprovalStore;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Approval requests shared by every replica that points at the same Redis and key prefix: a call
 * held on replica A is listed, approved or denied from replica B, and a caller blocked in
 * {@code wait} mode on A resumes as soon as B decides.
 *
 * <pre>{@code
 * RedisApprovalStore approvals = RedisApprovalStore.create("redis://redis.internal:6379");
 * SafeRun safeRun = SafeRun.builder().policies(policies)
 *     .stateStore(counters).approvalStore(approvals).build();
 * }</pre>
 *
 * <p><b>Transitions</b> ({@link #compareAndSet}) run as one Lua script: the record changes only
 * if it is still in the expected state, so of concurrent decisions or uses on any replicas
 * exactly one wins. That makes an approval single-use and expiry final across replicas. When a
 * record leaves PENDING the script publishes its id on {@code <prefix>apr:decided}.
 *
 * <p><b>Wake-ups.</b> {@link #subscribe} listens on that channel over a dedicated pub/sub
 * connection (no polling) and runs the callbacks on one daemon thread of this store, never on
 * Lettuce's I/O threads (a callback may call back into the store). Pub/sub does not keep
 * messages while a subscriber is disconnected, so each time the subscription is (re)established
 * the store re-reads the requests this replica is waiting on and reports those decided
 * meanwhile.
 *
 * <p><b>Layout.</b> {@code <prefix>apr:<id>}: a hash with the state and the record as JSON,
 * kept until {@link Builder#retainDecided} after the request's expiry; {@code
 * <prefix>apr:pending}: a sorted set of pending ids by creation time; {@code
 * <prefix>apr:open:<call key>}: the open request of a call (defer mode).
 *
 * <p><b>Failures.</b> When Redis does not answer within the command timeout, methods throw
 * {@link dev.saferun.spi.StateStoreException}; SafeRun fails closed (the call is not run, the
 * approval operation is refused).
 *
 * <p><b>Redis Cluster.</b> {@link #clusterBuilder} connects in cluster mode (the prefix must
 * hold a hash tag, as for {@link RedisStateStore}); the subscription uses a cluster pub/sub
 * connection to one node, which receives every decision because Redis Cluster broadcasts
 * {@code PUBLISH} to all nodes.
 *
 * <p>Thread-safe. Close it when the application stops.
 */
public final class RedisApprovalStore implements ApprovalStore, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RedisApprovalStore.class);
  private static final LuaScript CREATE = LuaScript.load("approval-create.lua");
  private static final LuaScript CAS = LuaScript.load("approval-cas.lua");
  private static final LuaScript PENDING = LuaScript.load("approval-pending.lua");
  private static final LuaScript OPEN = LuaScript.load("approval-open.lua");

  private final RedisConnector redis;
  private final String recordPrefix;
  private final String pendingKey;
  private final String openPrefix;
  private final String channel;
  private final long retainMillis;
  private final List<Consumer<String>> subscribers = new CopyOnWriteArrayList<>();
  /** Pending requests this replica created or looked at: re-checked after a resubscription. */
  private final Set<String> watched = ConcurrentHashMap.newKeySet();
  private final ExecutorService callbacks;
  private final Object pubSubLock = new Object();
  private StatefulRedisPubSubConnection<String, String> pubSub;
  private boolean pubSubStarted;
  private volatile boolean closed;

  private RedisApprovalStore(Builder b) {
    this.recordPrefix = b.keyPrefix + "apr:";
    this.pendingKey = b.keyPrefix + "apr:pending";
    this.openPrefix = b.keyPrefix + "apr:open:";
    this.channel = b.keyPrefix + "apr:decided";
    this.retainMillis = b.retainDecided.toMillis();
    this.redis = new RedisConnector(b.settings.copy(), () -> { });
    this.callbacks = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "saferun-redis-approvals");
      t.setDaemon(true);
      return t;
    });
    redis.tryConnect();
  }

  /** A store on {@code redis://host:port} with default settings. */
  public static RedisApprovalStore create(String redisUri) {
    return builder(redisUri).build();
  }

  /**
   * Starts configuring a store on {@code redis://host:port} (or any Lettuce URI form: one
   * standalone or Sentinel-managed Redis; for Redis Cluster use {@link #clusterBuilder}).
   */
  public static Builder builder(String redisUri) {
    return new Builder(RedisConnector.parse(Objects.requireNonNull(redisUri, "redisUri")));
  }

  /** Starts configuring a store on the given Redis (standalone or Sentinel). */
  public static Builder builder(RedisURI redisUri) {
    return new Builder(RedisURI.builder(Objects.requireNonNull(redisUri, "redisUri")).build());
  }

  /**
   * Starts configuring a store on a <b>Redis Cluster</b>, given one or more of its nodes
   * ({@code redis://host:port} or {@code rediss://host:port}; the others are discovered).
   * Cluster mode is chosen here and only here: a URI passed to {@link #builder(String)} is
   * always treated as one standalone (or Sentinel-managed) Redis. In cluster mode the key
   * prefix must contain a hash tag such as {@code {saferun}:} (the default), so that every key
   * of the deployment is in one slot; {@code keyPrefix} refuses one without.
   *
   * <pre>{@code
   * RedisApprovalStore.clusterBuilder("redis://node1:7000", "redis://node2:7000")
   *     .keyPrefix("{saferun:prod}:")
   *     .build();
   * }</pre>
   */
  public static Builder clusterBuilder(String... nodeUris) {
    return clusterBuilder(nodeUris == null ? null : java.util.Arrays.asList(nodeUris));
  }

  /** Like {@link #clusterBuilder(String...)}, with the seed nodes as a list. */
  public static Builder clusterBuilder(List<String> nodeUris) {
    Builder b = new Builder(null);
    b.settings.clusterNodes = RedisConnector.parseCluster(nodeUris);
    return b;
  }

  @Override
  public void create(ApprovalRecord record) {
    String id = record.id();
    String callKey = record.request().callKey();
    long life = record.request().expiresAt().toEpochMilli()
        - record.request().createdAt().toEpochMilli();
    long ttl = Math.max(1L, life) + retainMillis;
    Long created = redis.eval(CREATE, ScriptOutputType.INTEGER, keys(id, callKey), id,
        record.state().name(), ApprovalJson.write(record),
        Long.toString(record.request().createdAt().toEpochMilli()), Long.toString(ttl));
    if (created == null || created == 0) {
      throw new IllegalStateException("duplicate approval id " + id);
    }
    if (record.state() == ApprovalRecord.State.PENDING) {
      watched.add(id);
    }
  }

  @Override
  public ApprovalRecord get(String id) {
    String json;
    try {
      json = redis.commands().hget(recordPrefix + id, "record");
    } catch (RedisException e) {
      throw redis.unavailable(e);
    }
    return json == null ? null : ApprovalJson.read(json);
  }

  @Override
  public List<ApprovalRecord> pending() {
    List<Object> rows = redis.eval(PENDING, ScriptOutputType.MULTI, new String[] {pendingKey},
        recordPrefix);
    List<ApprovalRecord> out = new ArrayList<>(rows.size());
    for (Object row : rows) {
      out.add(ApprovalJson.read((String) row));
    }
    return out;
  }

  @Override
  public boolean compareAndSet(String id, ApprovalRecord.State expected, ApprovalRecord next) {
    Long done = redis.eval(CAS, ScriptOutputType.INTEGER, keys(id, next.request().callKey()), id,
        expected.name(), next.state().name(), ApprovalJson.write(next), channel);
    boolean ok = done != null && done == 1;
    if (ok && next.state() != ApprovalRecord.State.PENDING) {
      watched.remove(id);
    }
    return ok;
  }

  @Override
  public ApprovalRecord findOpen(String callKey) {
    String json = redis.eval(OPEN, ScriptOutputType.VALUE, new String[] {openPrefix + callKey},
        recordPrefix);
    if (json == null) {
      return null;
    }
    ApprovalRecord r = ApprovalJson.read(json);
    if (r.state() == ApprovalRecord.State.PENDING) {
      watched.add(r.id());
    }
    return r;
  }

  /**
   * Runs {@code decided} with the id of every request that leaves PENDING, on any replica. The
   * callback runs on this store's callback thread; it may block briefly and call the store.
   * The subscription is opened on the first call and kept (reconnected) until {@link #close}.
   */
  @Override
  public void subscribe(Consumer<String> decided) {
    subscribers.add(Objects.requireNonNull(decided, "decided"));
    synchronized (pubSubLock) {
      if (!pubSubStarted) {
        pubSubStarted = true;
        connectPubSub();
      }
    }
  }

  /** Closes both connections and the callback thread. */
  @Override
  public void close() {
    closed = true;
    synchronized (pubSubLock) {
      if (pubSub != null) {
        pubSub.close();
      }
    }
    callbacks.shutdownNow();
    redis.close();
  }

  @Override
  public String toString() {
    return "RedisApprovalStore[" + redis.where() + " channel=" + channel + "]";
  }

  private String[] keys(String id, String callKey) {
    return callKey == null ? new String[] {recordPrefix + id, pendingKey}
        : new String[] {recordPrefix + id, pendingKey, openPrefix + callKey};
  }

  private void connectPubSub() {
    if (closed) {
      return;
    }
    redis.connectPubSubAsync().whenComplete((c, e) -> {
      if (e != null) {
        LOG.warn("Approval wake-ups from Redis at {} unavailable ({}); retrying", redis.where(),
            e.toString());
        if (!closed) {
          redis.resources().timer().newTimeout(t -> connectPubSub(),
              redis.commandTimeout().toMillis() * 4, TimeUnit.MILLISECONDS);
        }
        return;
      }
      synchronized (pubSubLock) {
        if (closed) {
          c.closeAsync();
          return;
        }
        pubSub = c;
      }
      c.addListener(new RedisPubSubAdapter<String, String>() {
        @Override
        public void message(String ch, String id) {
          if (channel.equals(ch)) {
            watched.remove(id);
            dispatch(id);
          }
        }

        @Override
        public void subscribed(String ch, long count) {
          // First subscription, or again after a reconnect: catch up on missed decisions.
          if (channel.equals(ch)) {
            submit(RedisApprovalStore.this::catchUp);
          }
        }
      });
      subscribeChannel(c);
    });
  }

  /** Subscribes, and tries again if the SUBSCRIBE itself fails (the connection stays up). */
  private void subscribeChannel(StatefulRedisPubSubConnection<String, String> c) {
    c.async().subscribe(channel).whenComplete((ok, e) -> {
      if (e != null && !closed && c.isOpen()) {
        LOG.warn("Subscribing to {} on Redis at {} failed ({}); retrying", channel,
            redis.where(), e.toString());
        redis.resources().timer().newTimeout(t -> subscribeChannel(c),
            redis.commandTimeout().toMillis(), TimeUnit.MILLISECONDS);
      }
    });
  }

  private void catchUp() {
    for (String id : watched) {
      ApprovalRecord r;
      try {
        r = get(id);
      } catch (RuntimeException e) {
        LOG.warn("Could not re-check approval {} after resubscribing: {}", id, e.toString());
        return;
      }
      if (r == null || r.state() != ApprovalRecord.State.PENDING) {
        watched.remove(id);
        notifySubscribers(id);
      }
    }
  }

  private void dispatch(String id) {
    submit(() -> notifySubscribers(id));
  }

  private void submit(Runnable task) {
    if (closed) {
      return;
    }
    try {
      callbacks.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  private void notifySubscribers(String id) {
    for (Consumer<String> s : subscribers) {
      try {
        s.accept(id);
      } catch (RuntimeException e) {
        LOG.warn("Approval decision callback failed for {}", id, e);
      }
    }
  }

  /**
   * Configures a {@link RedisApprovalStore}. Options are checked when set and named in the
   * error. Not thread-safe; build once and share the store.
   */
  public static final class Builder extends RedisOptions<Builder> {
    private Duration retainDecided = Duration.ofDays(1);

    private Builder(RedisURI uri) {
      super(uri);
    }

    @Override
    Builder self() {
      return this;
    }

    /**
     * How long a request is kept after it expires (default 1 day), so a late approval gets a
     * clear "expired" or "already decided" answer instead of "unknown".
     */
    public Builder retainDecided(Duration retain) {
      this.retainDecided = RedisConnector.positive("retainDecided", retain);
      return this;
    }

    /** Builds the store and connects (as {@link RedisStateStore.Builder#build} does). */
    public RedisApprovalStore build() {
      return new RedisApprovalStore(this);
    }
  }
}
