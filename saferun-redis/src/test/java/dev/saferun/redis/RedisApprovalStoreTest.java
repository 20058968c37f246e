package dev.saferun.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.Clock;
import dev.saferun.Decision;
import dev.saferun.Execution;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.ToolExecutor;
import dev.saferun.approval.ApprovalException;
import dev.saferun.approval.ApprovalRecord;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.test.FakeClock;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 9 approvals on Redis: two replicas (each its own SafeRun, stores and connections) share
 * requests; decisions on one wake callers waiting on the other through pub/sub; single use and
 * expiry hold across replicas.
 */
@Timeout(60)
class RedisApprovalStoreTest {
  /** The two-tier refund of the core approval tests: hard limit, approval above $50, counter. */
  static final String TWO_TIER = String.join("\n",
      "version: \"1\"",
      "name: refunds",
      "redact: [args.card]",
      "approvals: {default_timeout: 15m, mode: %s}",
      "tools:",
      "  create_refund:",
      "    rules:",
      "      - name: hard limit",
      "        conditions: [{path: args.amount, op: lte, value: 20000}]",
      "      - name: large refunds need a human",
      "        action: require_approval",
      "        conditions: [{path: args.amount, op: gt, value: 5000}]",
      "      - name: daily refund total",
      "        conditions: [{path: state.create_refund.daily_total, op: lte, value: 30000}]",
      "        state: {counter: daily_total, window: day, increment_from: args.amount}",
      "");

  private TestRedis redis;
  private String prefix;
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final List<String> ran = new CopyOnWriteArrayList<>();
  private final ToolExecutor refundTool = call -> {
    ran.add(call.arguments());
    return "refunded " + call.arguments();
  };

  @BeforeEach
  void open(TestInfo info) {
    redis = TestRedis.shared();
    prefix = TestRedis.uniquePrefix(info.getTestMethod().orElseThrow().getName());
  }

  @AfterEach
  void close() throws Exception {
    pool.shutdownNow();
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  /** One replica: its own SafeRun, state store, approval store and connections. */
  private final class Replica {
    final SafeRun safeRun;
    final RedisApprovalStore approvals;
    final BlockingQueue<ApprovalRequest> paused = new LinkedBlockingQueue<>();

    Replica(String mode, Clock clock) {
      this(mode, clock, RedisApprovalStore.builder(redis.uri()).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build());
    }

    Replica(String mode, Clock clock, RedisApprovalStore approvals) {
      this.approvals = approvals;
      RedisStateStore state = RedisStateStore.builder(redis.uri()).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
      closing.add(approvals);
      closing.add(state);
      this.safeRun = SafeRun.builder()
          .policies(PolicySet.of(PolicyLoader.loadString(String.format(TWO_TIER, mode),
              "refunds.yaml")))
          .clock(clock).stateStore(state).approvalStore(approvals).auditSink(AuditSink.NONE)
          .onPause(paused::add).build();
    }

    ApprovalRequest awaitPaused() throws InterruptedException {
      ApprovalRequest q = paused.poll(10, TimeUnit.SECONDS);
      assertThat(q).as("onPause was called").isNotNull();
      return q;
    }
  }

  private static ToolCall refund(int amount) {
    return ToolCall.of("create_refund", "{\"amount\":" + amount + ",\"card\":\"4242\"}",
        CallContext.of("user", "u1", "run", "r1"));
  }

  @Test
  void heldOnAListedAndApprovedOnBTheCallerWaitingOnAResumesWithinASecond() throws Exception {
    Replica a = new Replica("wait", Clock.system());
    Replica b = new Replica("wait", Clock.system());
    Future<Execution> waiting = pool.submit(() -> a.safeRun.run(refund(8000), refundTool));
    ApprovalRequest q = a.awaitPaused();
    assertThat(waiting.isDone()).isFalse();
    assertThat(b.safeRun.approvals().pending()).extracting(ApprovalRecord::id)
        .containsExactly(q.id());
    assertThat(b.safeRun.approvals().get(q.id()).request().redactedArguments())
        .isEqualTo("{\"amount\":8000,\"card\":\"***\"}");
    long approvedAt = System.nanoTime();
    b.safeRun.approvals().approve(q.id(), "alice");
    Execution e = waiting.get(5, TimeUnit.SECONDS);
    long resumedMillis = (System.nanoTime() - approvedAt) / 1_000_000;
    System.out.println("wait-mode caller on A resumed " + resumedMillis + " ms after approval on B");
    assertThat(resumedMillis).isLessThan(1_000);
    assertThat(e.decision().isAllowed()).isTrue();
    assertThat(ran).containsExactly("{\"amount\":8000,\"card\":\"4242\"}");
    assertThat(b.safeRun.approvals().get(q.id()).state()).isEqualTo(ApprovalRecord.State.USED);
    assertThat(b.safeRun.counter("create_refund.daily_total", refund(1).context()))
        .isEqualByComparingTo("8000");
    assertThat(a.safeRun.approvals().pending()).isEmpty();
  }

  @Test
  void deniedOnBTheCallerWaitingOnAGetsTheDenialAndTheToolNeverRuns() throws Exception {
    Replica a = new Replica("wait", Clock.system());
    Replica b = new Replica("wait", Clock.system());
    Future<Execution> waiting = pool.submit(() -> a.safeRun.run(refund(8000), refundTool));
    ApprovalRequest q = a.awaitPaused();
    b.safeRun.approvals().deny(q.id(), "bob", "customer already refunded");
    Execution e = waiting.get(5, TimeUnit.SECONDS);
    assertThat(e.text()).isEqualTo(
        "[SAFERUN POLICY DENIED] Denied by approver bob: customer already refunded");
    assertThat(ran).isEmpty();
  }

  @Test
  void expiryDecidedOnBIsFinalOnATooAndWakesItsCaller() throws Exception {
    FakeClock clockA = FakeClock.at("2026-01-15T10:00:00Z");
    FakeClock clockB = FakeClock.at("2026-01-15T10:00:00Z");
    Replica a = new Replica("wait", clockA);
    Replica b = new Replica("wait", clockB);
    Future<Execution> waiting = pool.submit(() -> a.safeRun.run(refund(8000), refundTool));
    ApprovalRequest q = a.awaitPaused();
    clockB.advance(Duration.ofMinutes(15));
    assertThatThrownBy(() -> b.safeRun.approvals().approve(q.id(), "alice"))
        .isInstanceOfSatisfying(ApprovalException.class,
            x -> assertThat(x.reason()).isEqualTo(ApprovalException.Reason.EXPIRED));
    Execution e = waiting.get(5, TimeUnit.SECONDS);
    assertThat(e.text()).isEqualTo("[SAFERUN POLICY DENIED] Approval " + q.id()
        + " expired without a decision");
    // A's clock has not reached the expiry, yet the request cannot be approved there either
    assertThatThrownBy(() -> a.safeRun.approvals().approve(q.id(), "alice"))
        .isInstanceOfSatisfying(ApprovalException.class,
            x -> assertThat(x.reason()).isEqualTo(ApprovalException.Reason.EXPIRED));
    assertThat(ran).isEmpty();
  }

  @Test
  void anApprovalRunsOnceWhenBothReplicasRaceToUseIt() throws Exception {
    Replica a = new Replica("defer", Clock.system());
    Replica b = new Replica("defer", Clock.system());
    Decision held = a.safeRun.evaluate(refund(8000));
    assertThat(held.isHeld()).isTrue();
    String id = held.approval().id();
    b.safeRun.approvals().approve(id, "alice");
    CountDownLatch go = new CountDownLatch(1);
    AtomicInteger alreadyUsed = new AtomicInteger();
    List<Future<?>> fs = new ArrayList<>();
    for (SafeRun s : List.of(a.safeRun, b.safeRun, a.safeRun, b.safeRun)) {
      fs.add(pool.submit(() -> {
        go.await();
        try {
          s.runApproved(id, refundTool);
        } catch (ApprovalException e) {
          assertThat(e.reason()).isEqualTo(ApprovalException.Reason.ALREADY_DECIDED);
          alreadyUsed.incrementAndGet();
        }
        return null;
      }));
    }
    go.countDown();
    for (Future<?> f : fs) {
      f.get(10, TimeUnit.SECONDS);
    }
    assertThat(ran).hasSize(1);
    assertThat(alreadyUsed.get()).isEqualTo(3);
  }

  @Test
  void deferModeTheSameCallOnAnotherReplicaUsesTheOpenRequestAndPassesOnce() throws Exception {
    Replica a = new Replica("defer", Clock.system());
    Replica b = new Replica("defer", Clock.system());
    Execution first = a.safeRun.run(refund(8000), refundTool);
    assertThat(first.text()).startsWith("[SAFERUN APPROVAL REQUIRED]");
    String id = first.decision().approval().id();
    // the agent retries through another replica: same request, no second one
    Execution retry = b.safeRun.run(refund(8000), refundTool);
    assertThat(retry.decision().approval().id()).isEqualTo(id);
    assertThat(a.paused).hasSize(1);
    assertThat(b.paused).isEmpty();
    a.safeRun.approvals().approve(id, "alice");
    assertThat(b.safeRun.run(refund(8000), refundTool).decision().isAllowed()).isTrue();
    Execution again = a.safeRun.run(refund(8000), refundTool);
    assertThat(again.decision().isHeld()).isTrue();
    assertThat(again.decision().approval().id()).isNotEqualTo(id);
    assertThat(ran).hasSize(1);
  }

  @Test
  void ofConcurrentTransitionsOnBothStoresExactlyOneWins() throws Exception {
    RedisApprovalStore one = RedisApprovalStore.builder(redis.uri()).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
    RedisApprovalStore two = RedisApprovalStore.builder(redis.uri()).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
    closing.add(one);
    closing.add(two);
    for (int round = 0; round < 20; round++) {
      ApprovalRecord pending = ApprovalRecord.pending(request("apr_race" + round, "k" + round));
      one.create(pending);
      CountDownLatch go = new CountDownLatch(1);
      AtomicInteger wins = new AtomicInteger();
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        RedisApprovalStore s = t % 2 == 0 ? one : two;
        ApprovalRecord next = pending.with(t % 3 == 0 ? ApprovalRecord.State.DENIED
            : ApprovalRecord.State.APPROVED, "approver" + t, null, "{}", "h", Instant.now());
        fs.add(pool.submit(() -> {
          go.await();
          if (s.compareAndSet(pending.id(), ApprovalRecord.State.PENDING, next)) {
            wins.incrementAndGet();
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : fs) {
        f.get(10, TimeUnit.SECONDS);
      }
      assertThat(wins.get()).isEqualTo(1);
    }
  }

  private static ApprovalRequest request(String id, String callKey) {
    return new ApprovalRequest(id, "create_refund", "{\"amount\":8000,\"card\":\"4242\"}",
        "{\"amount\":8000,\"card\":\"***\"}", "abc123", "refunds", "v1", "large refunds",
        "Approval required by rule \"large refunds\"",
        CallContext.of("user", "u1", "run", "r1", "tenant", "acme"),
        Instant.parse("2026-01-15T10:00:00.123456789Z"),
        Instant.parse("2026-01-15T10:15:00.123456789Z"), callKey, true);
  }

  @Test
  void recordsReadBackExactlyOnAnyReplicaAndOpenRequestsAreFoundByCallKey() {
    RedisApprovalStore one = RedisApprovalStore.builder(redis.uri()).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
    RedisApprovalStore two = RedisApprovalStore.builder(redis.uri()).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
    closing.add(one);
    closing.add(two);
    ApprovalRecord pending = ApprovalRecord.pending(request("apr_1", "call-1"));
    one.create(pending);
    assertThat(two.get("apr_1")).isEqualTo(pending);
    assertThat(two.get("apr_unknown")).isNull();
    assertThat(two.findOpen("call-1")).isEqualTo(pending);
    assertThatThrownBy(() -> two.create(pending)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("duplicate approval id apr_1");
    ApprovalRecord approved = pending.with(ApprovalRecord.State.APPROVED, "alice", null,
        "{\"amount\":7000}", "h2", Instant.parse("2026-01-15T10:05:00Z"));
    assertThat(two.compareAndSet("apr_1", ApprovalRecord.State.PENDING, approved)).isTrue();
    assertThat(one.get("apr_1")).isEqualTo(approved);
    assertThat(one.findOpen("call-1")).isEqualTo(approved);
    assertThat(one.pending()).isEmpty();
    ApprovalRecord used = approved.withState(ApprovalRecord.State.USED);
    assertThat(one.compareAndSet("apr_1", ApprovalRecord.State.PENDING, used)).isFalse();
    assertThat(one.compareAndSet("apr_1", ApprovalRecord.State.APPROVED, used)).isTrue();
    assertThat(two.findOpen("call-1")).isNull();
    // kept until a day after its expiry (15 minutes after creation), then gone by itself
    long ttl = redis.admin().pttl(prefix + "apr:apr_1");
    assertThat(ttl).isBetween(Duration.ofDays(1).toMillis(),
        Duration.ofDays(1).plusMinutes(15).toMillis());
  }

  @Test
  void pendingListsOldestFirstAcrossReplicas() {
    RedisApprovalStore one = RedisApprovalStore.builder(redis.uri()).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
    RedisApprovalStore two = RedisApprovalStore.builder(redis.uri()).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build();
    closing.add(one);
    closing.add(two);
    ApprovalRequest base = request("x", null);
    for (int i = 3; i >= 1; i--) {
      ApprovalRequest q = new ApprovalRequest("apr_" + i, base.tool(), base.arguments(),
          base.redactedArguments(), base.argumentsHash(), base.policy(), base.policyVersion(),
          base.rule(), base.message(), base.context(), base.createdAt().plusSeconds(i),
          base.expiresAt(), null, false);
      (i % 2 == 0 ? one : two).create(ApprovalRecord.pending(q));
    }
    assertThat(one.pending()).extracting(ApprovalRecord::id)
        .containsExactly("apr_1", "apr_2", "apr_3");
    two.compareAndSet("apr_2", ApprovalRecord.State.PENDING,
        one.get("apr_2").withState(ApprovalRecord.State.EXPIRED));
    assertThat(two.pending()).extracting(ApprovalRecord::id).containsExactly("apr_1", "apr_3");
  }

  @Test
  void aDecisionMadeWhileTheSubscriptionWasDownStillWakesTheWaitingCaller() throws Exception {
    // A reconnects its subscription only after 2 s, so B's decision falls in the gap and its
    // pub/sub message is lost; A catches up when it subscribes again.
    ClientResources slowReconnect = DefaultClientResources.builder()
        .reconnectDelay(Delay.constant(Duration.ofSeconds(2))).build();
    closing.add(() -> slowReconnect.shutdown(0, 2, TimeUnit.SECONDS));
    Replica a = new Replica("wait", Clock.system(), RedisApprovalStore.builder(redis.uri())
        .keyPrefix(prefix).clientResources(slowReconnect).commandTimeout(TestRedis.RELAXED).build());
    Replica b = new Replica("wait", Clock.system());
    Future<Execution> waiting = pool.submit(() -> a.safeRun.run(refund(8000), refundTool));
    ApprovalRequest q = a.awaitPaused();
    assertThat(redis.admin().clientKill(io.lettuce.core.KillArgs.Builder.typePubsub()))
        .isPositive();
    b.safeRun.approvals().approve(q.id(), "alice");
    Execution e = waiting.get(15, TimeUnit.SECONDS);
    assertThat(e.decision().isAllowed()).isTrue();
    assertThat(ran).hasSize(1);
  }
}
