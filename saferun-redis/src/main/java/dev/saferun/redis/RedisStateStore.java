package dev.saferun.redis;

import dev.saferun.Clock;
import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeReceipt;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStore;
import dev.saferun.spi.StateStoreException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Counters shared by every replica that points at the same Redis and key prefix: a cap of
 * $500 a day is $500 a day across ten replicas, not $5,000.
 *
 * <pre>{@code
 * RedisStateStore counters = RedisStateStore.builder("redis://redis.internal:6379")
 *     .keyPrefix("{saferun:prod}:")
 *     .commandTimeout(Duration.ofMillis(250))
 *     .build();
 * SafeRun safeRun = SafeRun.builder().policies(policies).stateStore(counters).build();
 * }</pre>
 *
 * <p><b>One round trip per charge.</b> {@link #charge} sends every counter of a call to one Lua
 * script (EVALSHA), which checks all limits and then adds all amounts, or adds nothing and names
 * the first charge that did not fit. Redis runs a script atomically, so no interleaving of
 * replicas can push a counter past its limit. {@link #read}, {@link #refund} and
 * {@link #recordAttempt} are one script each as well.
 *
 * <p><b>Exact amounts.</b> Amounts are stored as integers scaled by 10^{@link
 * Builder#fractionDigits fractionDigits} (default 6) and added and compared as decimal strings
 * inside the script, never as Lua numbers (doubles), so there is no rounding and no upper bound.
 * An amount with more fractional digits than configured is refused with an
 * {@link IllegalArgumentException} naming the counter (SafeRun then denies the call); a limit
 * with more digits is converted exactly (for {@code lte} rounded down, for {@code lt} rounded
 * up, which is the same test on values of that scale).
 *
 * <p><b>Layout.</b> One Redis hash per counter, {@code <prefix>c:<storage key>}, one field per
 * live bucket (fixed windows: one; rolling windows: up to 61, see {@link Window}). Loop-breaker
 * attempts use {@code <prefix>l:<storage key>}. Every write makes the key's time to live reach at
 * least the moment its newest bucket stops counting plus {@link Builder#clockSkewAllowance} (when
 * it must grow, it grows one second further, so charges within one bucket rarely extend it), so
 * an idle counter disappears by itself. Buckets older than the window are deleted when the counter
 * is next charged; buckets newer than the caller's clock (a replica whose clock runs ahead)
 * count as well, so skew makes a limit deny early, never late.
 *
 * <p><b>Time.</b> Windows follow the wall clock passed in by SafeRun ({@code nowMillis}), not
 * Redis server time, so every replica's clock must be synchronized (NTP); see
 * {@code docs/distributed.md} and {@link #measureClockOffset}.
 *
 * <p><b>Failures.</b> When Redis is down, slow or unreachable, every method throws
 * {@link StateStoreException} within the command timeout (default 250 ms; at once while the
 * connection is known to be down), and SafeRun denies the call ("State store unavailable: …").
 * Commands are never replayed after a reconnect. A charge whose reply was lost may or may not
 * have been applied; its call was denied, so a counter can only be over-counted by it (until
 * its window ends), never under-counted. The store reconnects by itself when Redis returns.
 *
 * <p><b>Redis Cluster.</b> {@link #clusterBuilder} connects to a cluster through Lettuce's
 * cluster client with the same fail-fast settings; the key prefix must hold a hash tag (the
 * default {@code {saferun}:} does) so that every key of a call is in one slot, and scripts run
 * on the node that owns it. {@link #builder(String)} never guesses cluster mode.
 *
 * <p>Thread-safe: one instance serves every thread, over one multiplexed connection. Close it
 * when the application stops.
 */
public final class RedisStateStore implements StateStore, AutoCloseable {
  private static final LuaScript CHARGE = LuaScript.load("charge.lua");
  private static final LuaScript READ = LuaScript.load("read.lua");
  private static final LuaScript REFUND = LuaScript.load("refund.lua");
  private static final LuaScript ATTEMPT = LuaScript.load("attempt.lua");
  private static final LuaScript SETTINGS = LuaScript.load("settings.lua");

  private final RedisConnector redis;
  private final String counterPrefix;
  private final String attemptPrefix;
  private final String settingsKey;
  private final int fractionDigits;
  private final long skewMillis;

  private RedisStateStore(Builder b) {
    this.counterPrefix = b.keyPrefix + "c:";
    this.attemptPrefix = b.keyPrefix + "l:";
    this.settingsKey = b.keyPrefix + "settings";
    this.fractionDigits = b.fractionDigits;
    this.skewMillis = b.clockSkewAllowance.toMillis();
    this.redis = new RedisConnector(b.settings.copy(), this::checkSettings);
    redis.tryConnect();
  }

  /** A store on {@code redis://host:port} with default settings. */
  public static RedisStateStore create(String redisUri) {
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
   * RedisStateStore.clusterBuilder("redis://node1:7000", "redis://node2:7000")
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
  public ChargeResult charge(List<Charge> charges, long nowMillis) {
    int n = charges.size();
    if (n == 0) {
      return ChargeResult.charged(ChargeReceipt.NONE);
    }
    // Distinct counters (a call has a handful: arrays, not maps), then one script for all.
    String[] keys = new String[n];
    CounterKey[] distinct = new CounterKey[n];
    int[] keyOf = new int[n];
    int d = 0;
    for (int i = 0; i < n; i++) {
      CounterKey key = charges.get(i).key();
      int at = 0;
      while (at < d && !distinct[at].storageKey().equals(key.storageKey())) {
        at++;
      }
      if (at == d) {
        distinct[d] = key;
        keys[d] = counterPrefix + key.storageKey();
        d++;
      }
      keyOf[i] = at;
    }
    String[] args = new String[1 + 3 * d + 3 * n];
    args[0] = Integer.toString(d);
    for (int k = 0; k < d; k++) {
      Window w = distinct[k].window();
      args[1 + 3 * k] = Long.toString(w.bucketOf(nowMillis));
      args[2 + 3 * k] = Long.toString(w.oldestLiveBucket(nowMillis));
      args[3 + 3 * k] = Long.toString(ttlMillis(w, nowMillis));
    }
    for (int i = 0; i < n; i++) {
      Charge c = charges.get(i);
      int at = 1 + 3 * d + 3 * i;
      args[at] = Integer.toString(keyOf[i] + 1);
      args[at + 1] = scaled(c.amount(), c.key());
      args[at + 2] = max(c);
    }
    Long refused = redis.eval(CHARGE, ScriptOutputType.INTEGER,
        d == n ? keys : java.util.Arrays.copyOf(keys, d), args);
    if (refused == null || refused >= n) {
      throw new StateStoreException("Redis at " + redis.where()
          + " returned an unexpected charge result " + refused, null);
    }
    if (refused >= 0) {
      return ChargeResult.refused(refused.intValue());
    }
    ChargeReceipt.Entry[] entries = new ChargeReceipt.Entry[n];
    for (int i = 0; i < n; i++) {
      Charge c = charges.get(i);
      entries[i] = new ChargeReceipt.Entry(c.key(), c.amount(), nowMillis);
    }
    return ChargeResult.charged(new ChargeReceipt(List.of(entries)));
  }

  @Override
  public void refund(ChargeReceipt receipt) {
    int n = receipt.entries().size();
    if (n == 0) {
      return;
    }
    String[] keys = new String[n];
    String[] args = new String[2 * n];
    for (int i = 0; i < n; i++) {
      ChargeReceipt.Entry e = receipt.entries().get(i);
      keys[i] = counterPrefix + e.key().storageKey();
      args[2 * i] = Long.toString(e.key().window().bucketOf(e.chargedAtMillis()));
      args[2 * i + 1] = scaled(e.amount(), e.key());
    }
    redis.eval(REFUND, ScriptOutputType.INTEGER, keys, args);
  }

  @Override
  public BigDecimal read(CounterKey key, long nowMillis) {
    String v = redis.eval(READ, ScriptOutputType.VALUE,
        new String[] {counterPrefix + key.storageKey()},
        Long.toString(key.window().oldestLiveBucket(nowMillis)));
    return unscaled(v);
  }

  @Override
  public long recordAttempt(CounterKey key, long nowMillis) {
    Window w = key.window();
    Long before = redis.eval(ATTEMPT, ScriptOutputType.INTEGER,
        new String[] {attemptPrefix + key.storageKey()}, Long.toString(w.bucketOf(nowMillis)),
        Long.toString(w.oldestLiveBucket(nowMillis)), Long.toString(ttlMillis(w, nowMillis)));
    return before == null ? 0 : before;
  }

  /**
   * Estimates how far Redis server time is ahead of {@code clock} (negative: behind), from one
   * {@code TIME} command, assuming the reply took half the round trip. SafeRun does not use
   * Redis time; this is for monitoring the clock-sync assumption between replicas.
   *
   * @throws StateStoreException when Redis does not answer
   */
  public Duration measureClockOffset(Clock clock) {
    try {
      RedisClusterCommands<String, String> cmd = redis.commands();
      long t0 = clock.wallMillis();
      List<String> time = cmd.time();
      long t1 = clock.wallMillis();
      long serverMicros = Long.parseLong(time.get(0)) * 1_000_000L + Long.parseLong(time.get(1));
      long localMicros = (t0 + t1) * 500L;
      return Duration.ofNanos((serverMicros - localMicros) * 1_000L);
    } catch (RedisException e) {
      throw redis.unavailable(e);
    }
  }

  /** The number of fractional digits amounts are stored with. */
  public int fractionDigits() {
    return fractionDigits;
  }

  /** Closes the connection (and the client resources this store created). */
  @Override
  public void close() {
    redis.close();
  }

  @Override
  public String toString() {
    return "RedisStateStore[" + redis.where() + " prefix=" + counterPrefix.substring(0,
        counterPrefix.length() - 2) + "]";
  }

  /**
   * How long a charge made now can still count: until its bucket leaves the window, plus the
   * skew allowance for replicas whose clocks run behind.
   */
  private long ttlMillis(Window w, long nowMillis) {
    long bucketEnd = (w.bucketOf(nowMillis) + 1) * w.bucketMillis();
    long lastCounts = w.fixed() ? bucketEnd : bucketEnd + w.millis();
    return Math.max(1L, lastCounts - nowMillis + skewMillis);
  }

  private String scaled(BigDecimal amount, CounterKey key) {
    try {
      return amount.movePointRight(fractionDigits).toBigIntegerExact().toString();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("Amount " + amount.toPlainString() + " for counter "
          + key.name() + " has more than " + fractionDigits + " fractional digits; "
          + "RedisStateStore keeps amounts exactly with " + fractionDigits
          + " (see RedisStateStore.Builder.fractionDigits)", e);
    }
  }

  /** The largest scaled value the counter may reach: '' for no limit, '-' when none fits. */
  private String max(Charge c) {
    if (c.limit() == null) {
      return "";
    }
    BigDecimal l = c.limit().movePointRight(fractionDigits);
    BigInteger m = c.inclusive() ? l.setScale(0, RoundingMode.FLOOR).toBigInteger()
        : l.setScale(0, RoundingMode.CEILING).toBigInteger().subtract(BigInteger.ONE);
    return m.signum() < 0 ? "-" : m.toString();
  }

  private BigDecimal unscaled(String v) {
    if (v == null || v.isEmpty() || v.equals("0")) {
      return BigDecimal.ZERO;
    }
    BigDecimal d = new BigDecimal(new BigInteger(v), fractionDigits).stripTrailingZeros();
    return d.scale() < 0 ? d.setScale(0) : d;
  }

  private void checkSettings() {
    String recorded = redis.eval(SETTINGS, ScriptOutputType.VALUE, new String[] {settingsKey},
        Integer.toString(fractionDigits));
    if (!Integer.toString(fractionDigits).equals(recorded)) {
      throw new StateStoreException("Redis store at " + redis.where() + " with key prefix '"
          + settingsKey.substring(0, settingsKey.length() - "settings".length())
          + "' holds amounts with " + recorded + " fractional digits, but this replica is "
          + "configured with " + fractionDigits + "; every replica sharing a prefix must use "
          + "the same RedisStateStore.Builder.fractionDigits", null);
    }
  }

  /**
   * Configures a {@link RedisStateStore}. Options are checked when set and named in the error.
   * Not thread-safe; build once and share the store.
   */
  public static final class Builder extends RedisOptions<Builder> {
    private int fractionDigits = 6;
    private Duration clockSkewAllowance = Duration.ofSeconds(2);

    private Builder(RedisURI uri) {
      super(uri);
    }

    @Override
    Builder self() {
      return this;
    }

    /**
     * Fractional digits amounts are kept with, exactly (default 6, at most 18). Every replica
     * sharing a key prefix must use the same value; the store checks it when it connects.
     */
    public Builder fractionDigits(int digits) {
      if (digits < 0 || digits > 18) {
        throw new IllegalArgumentException("fractionDigits must be between 0 and 18, got "
            + digits);
      }
      this.fractionDigits = digits;
      return this;
    }

    /**
     * How far replica clocks may lag behind each other (default 2 s): counter keys are kept
     * this much longer than their window needs, so a replica whose clock runs behind still
     * sees charges that count for it.
     */
    public Builder clockSkewAllowance(Duration allowance) {
      Objects.requireNonNull(allowance, "allowance");
      if (allowance.isNegative()) {
        throw new IllegalArgumentException("clockSkewAllowance must be >= 0, got " + allowance);
      }
      this.clockSkewAllowance = allowance;
      return this;
    }

    /**
     * Builds the store and connects. When Redis is unreachable the store still builds (an
     * application can start while Redis is down): it logs a warning, calls that need it are
     * denied, and the first call after Redis returns connects.
     */
    public RedisStateStore build() {
      return new RedisStateStore(this);
    }
  }
}
