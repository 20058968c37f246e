package dev.saferun.benchmarks;

import dev.saferun.Decision;
import dev.saferun.ToolCall;
import dev.saferun.policy.Window;
import dev.saferun.redis.RedisStateStore;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.math.BigDecimal;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Shared counters on Redis over loopback: the allowed Stripe decision with {@link
 * RedisStateStore} against the smallest possible store operation, one raw {@code EVALSHA} of a
 * one-command script ({@code HINCRBY}) through Lettuce's synchronous API; and, to split the
 * difference, one raw {@code EVALSHA} of the store's own charge script (saferun-redis's
 * {@code common.lua} + {@code charge.lua}) with the arguments the decision sends, and
 * {@link RedisStateStore#charge} of the same two counters without a decision around it. Redis is
 * {@code redis://127.0.0.1:6379} unless {@code -Dsaferun.bench.redis=<uri>}; keys live under a
 * random prefix and are deleted after the trial.
 *
 * <p>JMH state, one instance per trial; not thread-safe outside JMH's use of it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class RedisBenchmark {
  private static final String SCRIPT = "return redis.call('HINCRBY', KEYS[1], 'n', ARGV[1])";

  private String uri;
  private String prefix;
  private RedisStateStore store;
  private Support.Gate gate;
  private RedisClient client;
  private StatefulRedisConnection<String, String> connection;
  private RedisCommands<String, String> redis;
  private String sha;
  private String[] rawKeys;
  private String chargeSha;
  private String[] chargeKeys;
  private long chargeMillis = Support.START_MILLIS;
  private long storeMillis = Support.START_MILLIS;
  /** The allowed Stripe call's two charges (daily spend of 1, one call a minute), limits as in the policy. */
  private final List<Charge> storeCharges = List.of(
      new Charge(CounterKey.of("store.daily_spend", Window.DAY, "", false), BigDecimal.ONE,
          BigDecimal.valueOf(1_000_000_000_000L), true),
      new Charge(CounterKey.of("store.calls_per_minute", Window.MINUTE, "", false),
          BigDecimal.ONE, BigDecimal.valueOf(60_000_000L), true));
  private final ToolCall allowed = ToolCall.of("create_charge", Support.ALLOWED_CHARGE_JSON);

  /** Connects both clients under a fresh key prefix and checks the decision allows. */
  @Setup
  public void setUp() {
    uri = System.getProperty("saferun.bench.redis", "redis://127.0.0.1:6379");
    byte[] id = new byte[6];
    new SecureRandom().nextBytes(id);
    prefix = "{saferun-bench-" + HexFormat.of().formatHex(id) + "}:";
    store = RedisStateStore.builder(uri).keyPrefix(prefix).build();
    gate = Support.gate(Support.stripePolicy(), store);
    client = RedisClient.create(uri);
    connection = client.connect();
    redis = connection.sync();
    sha = redis.scriptLoad(SCRIPT);
    rawKeys = new String[] {prefix + "raw"};
    chargeSha = redis.scriptLoad(luaResource("common.lua") + "\n" + luaResource("charge.lua"));
    chargeKeys = new String[] {prefix + "c:create_charge.daily_spend|day|",
        prefix + "c:_global.calls_per_minute|minute|"};
    StripeDecisionBenchmark.check(rawChargeScript() == -1L, "the charge script refused");
    StripeDecisionBenchmark.check(storeCharge().isCharged(), "the store refused");
    Decision d = gate.decide(allowed);
    StripeDecisionBenchmark.check(d.isAllowed(), "the allowed call is not allowed with Redis: "
        + d.message());
  }

  /** Deletes this trial's keys and closes both clients. */
  @TearDown
  public void tearDown() {
    ScanIterator<String> keys = ScanIterator.scan(redis, ScanArgs.Builder.matches(prefix + "*")
        .limit(1000));
    while (keys.hasNext()) {
      redis.del(keys.next());
    }
    connection.close();
    client.shutdown();
    store.close();
  }

  /** The allowed Stripe decision; its two counters are charged by one script on Redis. */
  @Benchmark
  public Decision saferunDecisionOnRedis() {
    return gate.decide(allowed);
  }

  private static String luaResource(String name) {
    return Support.resource("dev/saferun/redis/" + name);
  }

  /**
   * SafeRun's charge script alone: the two counters of the allowed Stripe call (daily spend,
   * calls per minute), as RedisStateStore sends them (amounts scaled by 10^6).
   */
  @Benchmark
  public Long rawChargeScript() {
    chargeMillis += 1000L;
    long day = chargeMillis / 86_400_000L;
    long minute = chargeMillis / 60_000L;
    return redis.evalsha(chargeSha, ScriptOutputType.INTEGER, chargeKeys, "2",
        Long.toString(day), Long.toString(day), "86401000",
        Long.toString(minute), Long.toString(minute), "62000",
        "1", "1000000", "1000000000000", "2", "1000000", "60000000");
  }

  /**
   * The store's charge of the same two counters, called directly: the script plus what
   * RedisStateStore does around it (arguments, scaling, the receipt), without a decision.
   */
  @Benchmark
  public ChargeResult storeCharge() {
    storeMillis += 1000L;
    return store.charge(storeCharges, storeMillis);
  }

  /** One raw EVALSHA round trip (one HINCRBY in Lua). */
  @Benchmark
  public Long rawEvalsha() {
    return redis.evalsha(sha, ScriptOutputType.INTEGER, rawKeys, "1");
  }
}
