package dev.saferun.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.Clock;
import dev.saferun.Execution;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStoreException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Both stores on a real three-master Redis Cluster (one cluster for the test JVM): a call's
 * counters charged all-or-nothing in one slot, an exact cap under contention from two stores,
 * scripts reloaded on their node after SCRIPT FLUSH, a slot found through a seed node that does
 * not serve it, a slot moved while in use, approvals woken across replicas through cluster
 * pub/sub, and prefixes without a hash tag refused.
 */
@Timeout(60)
class RedisClusterTest {
  private static final long T0 = Instant.parse("2026-01-15T10:30:00Z").toEpochMilli();
  private static final CounterKey RATE = CounterKey.of("create_refund._rate_minute",
      Window.MINUTE, "", false);
  private static final CounterKey PER_USER = CounterKey.of("create_refund.daily_total",
      Window.DAY, "user=u1", false);
  private static final CounterKey GLOBAL = CounterKey.of("_global.spend", Window.parse("24h"),
      "", false);
  private static TestRedisCluster cluster;

  private final List<AutoCloseable> closing = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  private static synchronized TestRedisCluster cluster() {
    cluster = TestRedisCluster.shared();
    return cluster;
  }

  @AfterEach
  void close() throws Exception {
    pool.shutdownNow();
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private RedisStateStore store(String prefix, List<String> seeds) {
    RedisStateStore s = RedisStateStore.clusterBuilder(seeds).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
    closing.add(s);
    return s;
  }

  private static Charge lte(CounterKey key, String amount, String limit) {
    return new Charge(key, new BigDecimal(amount), limit == null ? null : new BigDecimal(limit),
        true);
  }

  private static List<Charge> call(String amount) {
    return List.of(lte(RATE, "1", "5"), lte(PER_USER, amount, "100"),
        lte(GLOBAL, amount, "120"));
  }

  @Test
  void theClusterExampleOfTheDistributedDocIsThisCodeAndItRuns() throws Exception {
    List<String> clusterNodes = cluster().uris();
    String deployment = TestRedis.uniquePrefix("doc").replace("{", "").replace("}:", "");
    // doc-cluster:start
    RedisStateStore counters = RedisStateStore.clusterBuilder(clusterNodes)  // some or all nodes
        .keyPrefix("{saferun:" + deployment + "}:")   // the {hash tag}: one slot per deployment
        .commandTimeout(Duration.ofMillis(250))
        .build();
    RedisApprovalStore approvals = RedisApprovalStore.clusterBuilder(clusterNodes)
        .keyPrefix("{saferun:" + deployment + "}:")
        .build();
    // doc-cluster:end
    closing.add(counters);
    closing.add(approvals);
    SafeRun safeRun = SafeRun.builder()
        .policies(PolicySet.of(PolicyLoader.loadString(Hammer.CAP_POLICY, "cap.yaml")))
        .stateStore(counters).approvalStore(approvals).auditSink(AuditSink.NONE).build();
    assertThat(safeRun.evaluate(Hammer.REFUND).isAllowed()).isTrue();
    assertThat(safeRun.counter("create_refund.daily_total", Hammer.REFUND.context()))
        .isEqualByComparingTo("12.50");
    assertThat(DistributedDocTest.javaBlock(1))
        .isEqualTo(DistributedDocTest.markedRegion("RedisClusterTest.java", "doc-cluster"));
  }

  @Test
  void aPrefixWithoutAHashTagIsRefusedInClusterModeAndNamed() {
    for (String bad : List.of("saferun:", "{}:saferun:", "{saferun:", "saferun}:{x")) {
      assertThatThrownBy(() -> RedisStateStore.clusterBuilder("redis://127.0.0.1:7000")
          .keyPrefix(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("keyPrefix '" + bad + "' has no hash tag")
          .hasMessageContaining("one hash slot");
      assertThatThrownBy(() -> RedisApprovalStore.clusterBuilder("redis://127.0.0.1:7000")
          .keyPrefix(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("keyPrefix '" + bad + "' has no hash tag");
    }
    // a standalone Redis has no slots: any prefix is fine there
    RedisStateStore.builder("redis://127.0.0.1:7000").keyPrefix("saferun:");
    RedisStateStore.clusterBuilder("redis://127.0.0.1:7000").keyPrefix("app:{saferun}:");
  }

  @Test
  void clusterModeNeedsHostAndPortSeedNodes() {
    assertThatThrownBy(() -> RedisStateStore.clusterBuilder(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one node URI");
    assertThatThrownBy(() -> RedisApprovalStore.clusterBuilder(
        "redis-sentinel://127.0.0.1:26379#mymaster"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("redis://host:port");
  }

  @Test
  void aClusterThatCannotBeReachedBuildsAndThenFailsClosedNamingTheNodes() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (RedisStateStore store = RedisStateStore.clusterBuilder("redis://127.0.0.1:" + port)
        .connectTimeout(Duration.ofMillis(200)).build()) {
      assertThatThrownBy(() -> store.charge(call("1"), T0))
          .isInstanceOf(StateStoreException.class)
          .hasMessageStartingWith("Redis at cluster 127.0.0.1:" + port + " failed");
    }
  }

  @Test
  void aCallsRateLimitPerUserAndGlobalCountersAreChargedAllOrNothingInOneSlot() {
    String prefix = TestRedis.uniquePrefix("all-or-nothing");
    RedisStateStore store = store(prefix, cluster().uris());
    assertThat(store.charge(call("50"), T0).isCharged()).isTrue();
    assertThat(store.charge(call("50"), T0 + 1).isCharged()).isTrue();
    // the per-user cap (100) is reached: refused at index 1, the rate limit is not charged
    ChargeResult refused = store.charge(call("30"), T0 + 2);
    assertThat(refused.refusedIndex()).isEqualTo(1);
    ChargeResult global = store.charge(List.of(lte(RATE, "1", "5"), lte(PER_USER, "0", "100"),
        lte(GLOBAL, "21", "120")), T0 + 3);
    assertThat(global.refusedIndex()).isEqualTo(2);
    assertThat(store.read(RATE, T0 + 4)).isEqualByComparingTo("2");
    assertThat(store.read(PER_USER, T0 + 4)).isEqualByComparingTo("100");
    assertThat(store.read(GLOBAL, T0 + 4)).isEqualByComparingTo("100");
    // three keys, one slot, one node: the prefix's
    int slot = cluster.slot(prefix);
    int owner = cluster.owner(slot);
    for (CounterKey k : List.of(RATE, PER_USER, GLOBAL)) {
      String key = prefix + "c:" + k.storageKey();
      assertThat(cluster.slot(key)).isEqualTo(slot);
      assertThat(cluster.node(owner).exists(key)).isEqualTo(1L);
    }
  }

  @Test
  void eightThreadsOnEachOfTwoStoresChargeExactlyTheCap() throws Exception {
    String prefix = TestRedis.uniquePrefix("cap");
    SafeRun a = Hammer.safeRun(store(prefix, cluster().uris()));
    SafeRun b = Hammer.safeRun(store(prefix, List.of(cluster.uri(2))));
    CountDownLatch go = new CountDownLatch(1);
    Future<Hammer.Result> ra = pool.submit(() -> Hammer.run(a, 8, 60, go));
    Future<Hammer.Result> rb = pool.submit(() -> Hammer.run(b, 8, 60, go));
    go.countDown();
    Hammer.Result x = ra.get(50, TimeUnit.SECONDS);
    Hammer.Result y = rb.get(50, TimeUnit.SECONDS);
    assertThat(x.decided() + y.decided()).isEqualTo(2 * 8 * 60);
    assertThat(x.ran() + y.ran()).isEqualTo(Hammer.CAP_CALLS);
    assertThat(x.ran()).isPositive();
    assertThat(y.ran()).isPositive();
    assertThat(a.counter("create_refund.daily_total", Hammer.REFUND.context()))
        .isEqualByComparingTo("5000");
  }

  @Test
  void aClientSeededOnlyWithNodeOneServesAPrefixWhoseSlotIsOnNodeTwo() {
    String prefix = cluster().prefixOn(1, "seed");
    RedisStateStore store = store(prefix, List.of(cluster.uri(0)));
    assertThat(store.charge(call("7"), T0).isCharged()).isTrue();
    assertThat(store.read(PER_USER, T0)).isEqualByComparingTo("7");
    assertThat(cluster.node(1).exists(prefix + "c:" + PER_USER.storageKey())).isEqualTo(1L);
  }

  @Test
  void afterScriptFlushOnEveryNodeTheScriptIsLoadedOnTheNodeThatRunsIt() {
    String prefix = cluster().prefixOn(2, "flush");
    RedisStateStore store = store(prefix, cluster.uris());
    assertThat(store.charge(call("1"), T0).isCharged()).isTrue();
    cluster.flushScripts();
    cluster.resetStats();
    assertThat(store.charge(call("1"), T0).isCharged()).isTrue();
    assertThat(store.charge(call("1"), T0).isCharged()).isTrue();
    // NOSCRIPT once, then EVAL on the slot's node only; afterwards EVALSHA hits the cache
    assertThat(cluster.calls(2, "eval")).isEqualTo(1);
    assertThat(cluster.calls(0, "eval") + cluster.calls(1, "eval")).isZero();
    assertThat(cluster.calls(0, "evalsha") + cluster.calls(1, "evalsha")).isZero();
    assertThat(store.read(PER_USER, T0)).isEqualByComparingTo("3");
  }

  @Test
  void aSlotMovedToAnotherNodeWhileChargingIsFollowedAndNoChargeIsLostOrDoubled()
      throws Exception {
    String prefix = cluster().prefixOn(0, "moved");
    int slot = cluster.slot(prefix);
    RedisStateStore store = store(prefix, cluster.uris());
    CounterKey total = CounterKey.of("t.total", Window.DAY, "", false);
    AtomicInteger charged = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch started = new CountDownLatch(20);
    // counted down by charges that succeed once the slot has moved
    java.util.concurrent.atomic.AtomicReference<CountDownLatch> afterMove =
        new java.util.concurrent.atomic.AtomicReference<>(new CountDownLatch(0));
    Future<?> charging = pool.submit(() -> {
      while (!stop.get()) {
        try {
          if (store.charge(List.of(lte(total, "1", null)), T0).isCharged()) {
            charged.incrementAndGet();
            afterMove.get().countDown();
          }
        } catch (StateStoreException e) {
          failed.incrementAndGet();
        }
        started.countDown();
      }
      return null;
    });
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    cluster.migrate(slot, 1);
    int atMove = charged.get();
    CountDownLatch fifty = new CountDownLatch(50);
    afterMove.set(fifty);
    assertThat(fifty.await(10, TimeUnit.SECONDS)).as("50 charges after the move").isTrue();
    stop.set(true);
    charging.get(10, TimeUnit.SECONDS);
    assertThat(cluster.owner(slot)).isEqualTo(1);
    assertThat(charged.get()).isGreaterThanOrEqualTo(atMove + 50);
    // every charge that returned is in the counter exactly once; none failed
    assertThat(store.read(total, T0)).isEqualByComparingTo(Integer.toString(charged.get()));
    assertThat(failed.get()).isZero();
    assertThat(cluster.node(1).exists(prefix + "c:" + total.storageKey())).isEqualTo(1L);
    System.out.println("slot " + slot + " moved from node 0 to node 1 after " + atMove
        + " charges; " + charged.get() + " charges in all, " + failed.get() + " failed");
  }

  @Test
  void anApprovalDecidedOnOneReplicaWakesTheCallerWaitingOnAnotherThroughClusterPubSub()
      throws Exception {
    String prefix = cluster().prefixOn(0, "approvals");
    List<String> ran = new CopyOnWriteArrayList<>();
    BlockingQueue<ApprovalRequest> paused = new LinkedBlockingQueue<>();
    // A knows only node 3, B only node 1 (which serves the slot and publishes the decision)
    SafeRun a = replica(prefix, List.of(cluster.uri(2)), paused);
    SafeRun b = replica(prefix, List.of(cluster.uri(0)), new LinkedBlockingQueue<>());
    ToolCall refund = ToolCall.of("create_refund", "{\"amount\":8000,\"card\":\"4242\"}",
        CallContext.of("user", "u1", "run", "r1"));
    Future<Execution> waiting = pool.submit(() -> a.run(refund, call -> {
      ran.add(call.arguments());
      return "ok";
    }));
    ApprovalRequest q = paused.poll(10, TimeUnit.SECONDS);
    assertThat(q).as("onPause was called").isNotNull();
    String channel = prefix + "apr:decided";
    int subscribedOn = -1;
    for (int i = 0; i < TestRedisCluster.NODES; i++) {
      if (cluster.node(i).pubsubNumsub(channel).get(channel) > 0) {
        subscribedOn = i;
      }
    }
    assertThat(subscribedOn).as("A's subscription is on another node than the slot's")
        .isNotEqualTo(0).isNotEqualTo(-1);
    long approvedAt = System.nanoTime();
    b.approvals().approve(q.id(), "alice");
    Execution e = waiting.get(5, TimeUnit.SECONDS);
    long resumedMillis = (System.nanoTime() - approvedAt) / 1_000_000;
    System.out.println("cluster: caller on A resumed " + resumedMillis
        + " ms after approval on B (published on node 0, subscribed on node " + subscribedOn
        + ")");
    assertThat(resumedMillis).isLessThan(1_000);
    assertThat(e.decision().isAllowed()).isTrue();
    assertThat(ran).containsExactly("{\"amount\":8000,\"card\":\"4242\"}");
  }

  private SafeRun replica(String prefix, List<String> seeds, BlockingQueue<ApprovalRequest> q) {
    RedisApprovalStore approvals = RedisApprovalStore.clusterBuilder(seeds).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
    closing.add(approvals);
    return SafeRun.builder()
        .policies(PolicySet.of(PolicyLoader.loadString(String.format(
            RedisApprovalStoreTest.TWO_TIER, "wait"), "refunds.yaml")))
        .clock(Clock.system()).stateStore(store(prefix, seeds)).approvalStore(approvals)
        .auditSink(AuditSink.NONE).onPause(q::add).build();
  }
}
