package dev.saferun.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.CallContext;
import dev.saferun.Clock;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.CounterKey;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 9: all of a call's counters are charged in one round trip, counted by Redis itself
 * (INFO commandstats). Also prints latencies and the clock offset used in docs/distributed.md.
 */
@Timeout(120)
class RoundTripTest {
  static final String POLICY = String.join("\n",
      "version: \"1\"",
      "tools:",
      "  create_refund:",
      "    rules:",
      "      - name: daily refund total",
      "        conditions: [{path: state.create_refund.daily_total, op: lte, value: 1000000}]",
      "        state: {counter: daily_total, window: day, increment_from: args.amount, per: [user]}",
      "      - name: refunds per minute",
      "        rate_limit: 100000/minute",
      "  \"*\":",
      "    rules:",
      "      - name: global",
      "        rate_limit: 1000000/24h",
      "");

  private TestRedis redis;
  private RedisStateStore store;
  private String prefix;

  @BeforeEach
  void open(TestInfo info) {
    redis = TestRedis.shared();
    prefix = TestRedis.uniquePrefix(info.getTestMethod().orElseThrow().getName());
    store = RedisStateStore.builder(redis.uri()).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** Commands our scripts run inside Redis; Redis 7 counts them in commandstats too. */
  private static final java.util.Set<String> IN_SCRIPT = java.util.Set.of("hgetall", "hget",
      "hset", "hdel", "pttl", "pexpire", "hincrby");

  /**
   * Commands sent by clients (round trips) between two commandstats snapshots: every command
   * except those run inside scripts and the INFO of the snapshot itself.
   */
  private Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> d = new HashMap<>();
    after.forEach((k, v) -> {
      long n = v - before.getOrDefault(k, 0L);
      if (n != 0 && !k.equals("info") && !IN_SCRIPT.contains(k)) {
        d.put(k, n);
      }
    });
    return d;
  }

  @Test
  void chargingThreeCountersIsExactlyOneEvalshaAndNothingElse() {
    long now = System.currentTimeMillis();
    List<Charge> charges = List.of(
        new Charge(CounterKey.of("create_refund.daily_total", Window.DAY, "user=u1", false),
            new BigDecimal("12.50"), new BigDecimal("1000"), true),
        new Charge(CounterKey.of("create_refund._rate_minute", Window.MINUTE, "", false),
            BigDecimal.ONE, new BigDecimal("100"), true),
        new Charge(CounterKey.of("_global._rate_24h", Window.parse("24h"), "", false),
            BigDecimal.ONE, new BigDecimal("1000"), true));
    store.charge(charges, now); // the first use may load the script
    for (int n = 1; n <= 3; n++) {
      Map<String, Long> before = redis.allCalls();
      assertThat(store.charge(charges, now).isCharged()).isTrue();
      assertThat(delta(before, redis.allCalls())).isEqualTo(Map.of("evalsha", 1L));
    }
    // a refused charge is one round trip as well
    List<Charge> over = List.of(charges.get(0), new Charge(charges.get(1).key(), BigDecimal.ONE,
        BigDecimal.ONE, true));
    Map<String, Long> before = redis.allCalls();
    assertThat(store.charge(over, now).refusedIndex()).isEqualTo(1);
    assertThat(delta(before, redis.allCalls())).isEqualTo(Map.of("evalsha", 1L));
  }

  @Test
  void afterAFlushTheScriptIsLoadedAgainWithoutLosingTheCharge() {
    long now = System.currentTimeMillis();
    CounterKey k = CounterKey.of("t.c", Window.DAY, "", false);
    store.charge(List.of(new Charge(k, BigDecimal.ONE, null, true)), now);
    redis.admin().scriptFlush();
    assertThat(store.charge(List.of(new Charge(k, BigDecimal.ONE, null, true)), now).isCharged())
        .isTrue();
    assertThat(store.read(k, now)).isEqualByComparingTo("2");
  }

  @Test
  void anAllowedDecisionWithThreeLimitedCountersIsOneRoundTrip() {
    SafeRun safeRun = SafeRun.builder()
        .policies(PolicySet.of(PolicyLoader.loadString(POLICY, "p.yaml")))
        .stateStore(store).auditSink(AuditSink.NONE).build();
    ToolCall call = ToolCall.of("create_refund", "{\"amount\":12.5}",
        CallContext.of("user", "u1"));
    safeRun.evaluate(call);
    Map<String, Long> before = redis.allCalls();
    int decisions = 50;
    for (int i = 0; i < decisions; i++) {
      assertThat(safeRun.evaluate(call).isAllowed()).isTrue();
    }
    Map<String, Long> d = delta(before, redis.allCalls());
    assertThat(d.keySet()).containsExactly("evalsha");
    assertThat(redis.calls("evalsha")).isPositive();
    // One script checks and charges all three counters; the engine reads no counter ahead of
    // it (a counter is read only when a later rule denies or holds, to name the deciding rule).
    assertThat(d.get("evalsha")).isEqualTo(decisions);
  }

  /**
   * Inside Redis, a charge of counters already in use reads each hash once and writes its
   * current bucket once: no second read of the bucket, and the time to live is extended only
   * when a new bucket starts (or a key is new), not on every charge.
   */
  @Test
  void aChargeOfCountersInUseIsOneReadOneWriteAndOneTtlCheckPerCounter() {
    List<Charge> charges = List.of(
        new Charge(CounterKey.of("create_refund.daily_total", Window.DAY, "user=u1", false),
            new BigDecimal("12.50"), null, true),
        new Charge(CounterKey.of("create_refund._rate_minute", Window.MINUTE, "", false),
            BigDecimal.ONE, null, true),
        new Charge(CounterKey.of("_global._rate_24h", Window.parse("24h"), "", false),
            BigDecimal.ONE, null, true));
    store.charge(charges, System.currentTimeMillis());
    int n = 20;
    Map<String, Long> before = redis.allCalls();
    for (int i = 0; i < n; i++) {
      assertThat(store.charge(charges, System.currentTimeMillis()).isCharged()).isTrue();
    }
    Map<String, Long> after = redis.allCalls();
    java.util.function.ToLongFunction<String> used =
        c -> after.getOrDefault(c, 0L) - before.getOrDefault(c, 0L);
    assertThat(used.applyAsLong("evalsha")).isEqualTo(n);
    assertThat(used.applyAsLong("hgetall")).isEqualTo(3L * n);
    assertThat(used.applyAsLong("hset")).isEqualTo(3L * n);
    assertThat(used.applyAsLong("pttl")).isEqualTo(3L * n);
    assertThat(used.applyAsLong("hget")).isZero();
    // a new minute or a new 24m bucket of the rolling window may start during the loop
    assertThat(used.applyAsLong("pexpire")).isLessThanOrEqualTo(2);
    assertThat(used.applyAsLong("hdel")).isLessThanOrEqualTo(2);
  }

  @Test
  void latencyOfAChargeAgainstARawEvalsha() {
    long now = System.currentTimeMillis();
    List<Charge> charges = List.of(
        new Charge(CounterKey.of("a.total", Window.DAY, "user=u1", false),
            new BigDecimal("12.50"), new BigDecimal("1000000000"), true),
        new Charge(CounterKey.of("a.rate", Window.MINUTE, "", false), BigDecimal.ONE, null, true),
        new Charge(CounterKey.of("g.rate", Window.parse("24h"), "", false), BigDecimal.ONE, null,
            true));
    String noop = redis.admin().scriptLoad("return 1");
    int n = 3000;
    for (int i = 0; i < 500; i++) { // warm up
      store.charge(charges, now + i);
      redis.admin().evalsha(noop, io.lettuce.core.ScriptOutputType.INTEGER);
    }
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      redis.admin().evalsha(noop, io.lettuce.core.ScriptOutputType.INTEGER);
    }
    long raw = (System.nanoTime() - t0) / n;
    t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      store.charge(charges, now + 60_000L + i * 20L);
    }
    long charge = (System.nanoTime() - t0) / n;
    System.out.printf("mean latency, loopback, sequential: raw EVALSHA 'return 1' %d us, "
        + "charge of 3 counters (24h rolling) %d us%n", raw / 1000, charge / 1000);
    assertThat(charge).isLessThan(Duration.ofMillis(50).toNanos());
  }

  @Test
  void redisServerTimeAndTheWallClockAgreeOnOneHost() {
    Duration offset = store.measureClockOffset(Clock.system());
    System.out.println("Redis TIME minus local wall clock: " + offset.toNanos() / 1000 + " us");
    assertThat(offset.abs()).isLessThan(Duration.ofMillis(200));
  }
}
