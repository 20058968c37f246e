package dev.saferun.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.Execution;
import dev.saferun.Fixtures;
import dev.saferun.ManualClock;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.ToolExecutor;
import dev.saferun.audit.AuditEvent;
import dev.saferun.policy.PolicySet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** SPEC §6 approvals, issue #4: pause, notify, approve with edits, resume exactly once. */
@Timeout(30)
class ApprovalFlowTest {

  /** The seed's two-tier refund: hard limit above the approval rule, auto-path limit below. */
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
      "        on_deny: Refunds over $200.00 are never allowed",
      "      - name: large refunds need a human",
      "        action: require_approval",
      "        conditions: [{path: args.amount, op: gt, value: 5000}]",
      "      - name: auto path",
      "        conditions: [{path: args.amount, op: lte, value: 5000}]",
      "      - name: daily refund total",
      "        conditions: [{path: state.create_refund.daily_total, op: lte, value: 30000}]",
      "        state: {counter: daily_total, window: day, increment_from: args.amount}",
      "");

  private final ManualClock clock = new ManualClock();
  private final List<ApprovalRequest> paused = new CopyOnWriteArrayList<>();
  private final Semaphore pauses = new Semaphore(0);
  private final List<AuditEvent> events = Collections.synchronizedList(new ArrayList<>());
  private final List<String> ran = new CopyOnWriteArrayList<>();
  private final ToolExecutor refundTool = call -> {
    ran.add(call.arguments());
    return "refunded " + call.arguments();
  };
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  private SafeRun safeRun(String mode) {
    return SafeRun.builder()
        .policies(PolicySet.of(Fixtures.policy(String.format(TWO_TIER, mode))))
        .clock(clock).auditSink(events::add).onPause(r -> {
          paused.add(r);
          pauses.release();
        }).build();
  }

  private static ToolCall refund(int amount) {
    return ToolCall.of("create_refund", "{\"amount\":" + amount + ",\"card\":\"4242\"}",
        CallContext.of("user", "u1", "run", "r1"));
  }

  /** Waits (bounded) for the n-th onPause signal from the thread making the call. */
  private ApprovalRequest awaitPaused(int n) throws InterruptedException {
    assertThat(pauses.tryAcquire(10, TimeUnit.SECONDS)).as("onPause was called").isTrue();
    return paused.get(n - 1);
  }

  @Test
  void waitModeBlocksUntilApprovedThenRunsTheApprovedCall() throws Exception {
    SafeRun s = safeRun("wait");
    Future<Execution> f = pool.submit(() -> s.run(refund(8000), refundTool));
    ApprovalRequest q = awaitPaused(1);
    assertThat(f.isDone()).isFalse();
    assertThat(s.approvals().pending()).extracting(ApprovalRecord::id).containsExactly(q.id());
    assertThat(q.redactedArguments()).isEqualTo("{\"amount\":8000,\"card\":\"***\"}");
    s.approvals().approve(q.id(), "alice");
    Execution e = f.get(10, TimeUnit.SECONDS);
    assertThat(e.decision().isAllowed()).isTrue();
    assertThat(e.output()).isEqualTo("refunded {\"amount\":8000,\"card\":\"4242\"}");
    assertThat(s.counter("create_refund.daily_total", refund(1).context()))
        .isEqualByComparingTo("8000");
    assertThat(s.approvals().get(q.id()).state()).isEqualTo(ApprovalRecord.State.USED);
  }

  @Test
  void anEditIsWhatIsEvaluatedChargedRunAndAudited() throws Exception {
    SafeRun s = safeRun("wait");
    Future<Execution> f = pool.submit(() -> s.run(refund(15000), refundTool));
    ApprovalRequest q = awaitPaused(1);
    s.approvals().approve(q.id(), "alice", "{\"amount\":12000,\"card\":\"4242\"}");
    Execution e = f.get(10, TimeUnit.SECONDS);
    assertThat(ran).containsExactly("{\"amount\":12000,\"card\":\"4242\"}");
    assertThat(e.argumentsEdited()).isTrue();
    assertThat(e.text()).isEqualTo("[SAFERUN APPROVED WITH CHANGES] alice changed the arguments"
        + " to {\"amount\":12000,\"card\":\"***\"}\nrefunded {\"amount\":12000,\"card\":\"4242\"}");
    assertThat(s.counter("create_refund.daily_total", refund(1).context()))
        .isEqualByComparingTo("12000");
    assertThat(events).extracting(AuditEvent::type).containsExactly(AuditEvent.Type.HELD,
        AuditEvent.Type.APPROVED, AuditEvent.Type.ALLOWED, AuditEvent.Type.EXECUTED);
    AuditEvent approved = events.get(1);
    assertThat(approved.approver()).isEqualTo("alice");
    assertThat(approved.message()).isEqualTo("Approved by alice with edited arguments");
    AuditEvent allowed = events.get(2);
    assertThat(allowed.approver()).isEqualTo("alice");
    assertThat(allowed.approvalId()).isEqualTo(q.id());
    assertThat(allowed.arguments()).isEqualTo("{\"amount\":12000,\"card\":\"***\"}");
    assertThat(events).allSatisfy(ev -> assertThat(String.valueOf(ev.arguments()))
        .doesNotContain("4242"));
  }

  @Test
  void anEditThatBreaksAHardLimitIsDenied() throws Exception {
    SafeRun s = safeRun("wait");
    Future<Execution> f = pool.submit(() -> s.run(refund(9000), refundTool));
    ApprovalRequest q = awaitPaused(1);
    s.approvals().approve(q.id(), "mallory", "{\"amount\":90000}");
    Execution e = f.get(10, TimeUnit.SECONDS);
    assertThat(e.decision().isDenied()).isTrue();
    assertThat(e.decision().rule()).isEqualTo("hard limit");
    assertThat(e.text()).isEqualTo(
        "[SAFERUN POLICY DENIED] Refunds over $200.00 are never allowed");
    assertThat(ran).isEmpty();
  }

  @Test
  void countersStillApplyAfterApproval() throws Exception {
    SafeRun s = safeRun("defer");
    for (int amount : new int[] {5000, 5000, 5000, 5000, 5000, 4000}) {
      assertThat(s.execute(refund(amount), refundTool)).startsWith("refunded");
    }
    // 29,000 charged; an approved 8,000 refund would pass 30,000
    String held = s.execute(refund(8000), refundTool);
    String id = held.substring(held.indexOf("apr_"), held.length() - 1);
    s.approvals().approve(id, "alice");
    Execution e = s.run(refund(8000), refundTool);
    assertThat(e.decision().rule()).isEqualTo("daily refund total");
    assertThat(e.decision().message()).isEqualTo("Limit of rule \"daily refund total\" reached");
  }

  @Test
  void denialReachesTheWaitingCallWithTheReason() throws Exception {
    SafeRun s = safeRun("wait");
    Future<Execution> f = pool.submit(() -> s.run(refund(8000), refundTool));
    ApprovalRequest q = awaitPaused(1);
    s.approvals().deny(q.id(), "bob", "customer already refunded");
    Execution e = f.get(10, TimeUnit.SECONDS);
    assertThat(e.text()).isEqualTo(
        "[SAFERUN POLICY DENIED] Denied by approver bob: customer already refunded");
    assertThat(ran).isEmpty();
    assertThat(events).extracting(AuditEvent::type).contains(AuditEvent.Type.APPROVAL_DENIED);
  }

  @Test
  void expiryIsDrivenByTheInjectedClock() throws Exception {
    SafeRun s = safeRun("wait");
    Future<Execution> f = pool.submit(() -> s.run(refund(8000), refundTool));
    ApprovalRequest q = awaitPaused(1);
    clock.advance(Duration.ofMinutes(14));
    assertThat(f.isDone()).isFalse();
    clock.advance(Duration.ofMinutes(1));
    Execution e = f.get(10, TimeUnit.SECONDS);
    assertThat(e.text()).isEqualTo("[SAFERUN POLICY DENIED] Approval " + q.id()
        + " expired without a decision");
    assertThatThrownBy(() -> s.approvals().approve(q.id(), "alice"))
        .isInstanceOfSatisfying(ApprovalException.class,
            x -> assertThat(x.reason()).isEqualTo(ApprovalException.Reason.EXPIRED))
        .hasMessageContaining("expired at");
    assertThat(events).extracting(AuditEvent::type).contains(AuditEvent.Type.EXPIRED);
  }

  @Test
  void anOverdueRequestCannotBeApprovedEvenIfItsTimerNeverRan() {
    // A clock whose timers never fire (a stalled timer thread): expiry is still enforced.
    dev.saferun.Clock stalled = new dev.saferun.Clock() {
      @Override
      public long wallMillis() {
        return clock.wallMillis();
      }

      @Override
      public long monotonicNanos() {
        return clock.monotonicNanos();
      }

      @Override
      public Scheduled schedule(long atMillis, Runnable task) {
        return () -> { };
      }
    };
    SafeRun s = SafeRun.builder()
        .policies(PolicySet.of(Fixtures.policy(String.format(TWO_TIER, "defer"))))
        .clock(stalled).auditSink(events::add).build();
    Decision d = s.evaluate(refund(8000));
    clock.advance(Duration.ofMinutes(15));
    assertThat(s.approvals().pending()).isEmpty();
    assertThatThrownBy(() -> s.approvals().approve(d.approval().id(), "alice"))
        .isInstanceOf(ApprovalException.class).hasMessageContaining("expired");
    assertThat(s.resume(d.approval().id()).decision().message()).endsWith("expired without a decision");
  }

  @Test
  void deferModeReturnsAtOnceAndLetsTheIdenticalCallPassOnce() throws Exception {
    SafeRun s = safeRun("defer");
    String first = s.execute(refund(8000), refundTool);
    assertThat(first).matches("\\[SAFERUN APPROVAL REQUIRED\\] Approval required by rule"
        + " \"large refunds need a human\" \\(approval apr_[0-9a-f]{32}\\)");
    String again = s.execute(refund(8000), refundTool);
    assertThat(again).isEqualTo(first); // a retry joins the pending request
    assertThat(paused).hasSize(1);
    s.approvals().approve(paused.get(0).id(), "alice");
    assertThat(s.execute(refund(8000), refundTool)).startsWith("refunded");
    assertThat(s.execute(refund(8000), refundTool)).startsWith("[SAFERUN APPROVAL REQUIRED]");
    assertThat(ran).hasSize(1);
    assertThat(paused).hasSize(2);
  }

  @Test
  void anApprovalIsBoundToTheCallersContext() throws Exception {
    SafeRun s = safeRun("defer");
    s.execute(refund(8000), refundTool);
    s.approvals().approve(paused.get(0).id(), "alice");
    ToolCall otherUser = ToolCall.of("create_refund", "{\"amount\":8000,\"card\":\"4242\"}",
        CallContext.of("user", "u2", "run", "r1"));
    assertThat(s.execute(otherUser, refundTool)).startsWith("[SAFERUN APPROVAL REQUIRED]");
    ToolCall otherArgs = refund(8001);
    assertThat(s.execute(otherArgs, refundTool)).startsWith("[SAFERUN APPROVAL REQUIRED]");
    assertThat(ran).isEmpty();
  }

  @Test
  void deferModeRunsExactlyOnceUnderConcurrentRetries() throws Exception {
    for (int round = 0; round < 5; round++) {
      ran.clear();
      paused.clear();
      SafeRun s = safeRun("defer");
      s.execute(refund(6000), refundTool);
      s.approvals().approve(paused.get(0).id(), "alice");
      CountDownLatch go = new CountDownLatch(1);
      List<Future<String>> fs = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        fs.add(pool.submit(() -> {
          go.await();
          return s.execute(refund(6000), refundTool);
        }));
      }
      go.countDown();
      int passed = 0;
      for (Future<String> f : fs) {
        passed += f.get(10, TimeUnit.SECONDS).startsWith("refunded") ? 1 : 0;
      }
      assertThat(passed).isEqualTo(1);
      assertThat(ran).hasSize(1);
    }
  }

  @Test
  void concurrentApproveAndDenyHaveExactlyOneWinner() throws Exception {
    for (int round = 0; round < 20; round++) {
      SafeRun s = safeRun("defer");
      Decision held = s.evaluate(refund(7000));
      String id = held.approval().id();
      CountDownLatch go = new CountDownLatch(1);
      AtomicInteger wins = new AtomicInteger();
      AtomicInteger refusals = new AtomicInteger();
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int n = t;
        fs.add(pool.submit(() -> {
          go.await();
          try {
            if (n % 2 == 0) {
              s.approvals().approve(id, "approver" + n);
            } else {
              s.approvals().deny(id, "approver" + n, "no");
            }
            wins.incrementAndGet();
          } catch (ApprovalException e) {
            assertThat(e.reason()).isEqualTo(ApprovalException.Reason.ALREADY_DECIDED);
            refusals.incrementAndGet();
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : fs) {
        f.get(10, TimeUnit.SECONDS);
      }
      assertThat(wins).hasValue(1);
      assertThat(refusals).hasValue(7);
      long decisions = events.stream().filter(e -> id.equals(e.approvalId())
          && (e.type() == AuditEvent.Type.APPROVED
              || e.type() == AuditEvent.Type.APPROVAL_DENIED)).count();
      assertThat(decisions).isEqualTo(1);
    }
  }

  @Test
  void approvalApiErrorsAreClear() {
    SafeRun s = safeRun("defer");
    assertThatThrownBy(() -> s.approvals().approve("apr_nope", "alice"))
        .isInstanceOfSatisfying(ApprovalException.class,
            e -> assertThat(e.reason()).isEqualTo(ApprovalException.Reason.NOT_FOUND))
        .hasMessage("No approval request apr_nope");
    String id = s.evaluate(refund(7000)).approval().id();
    assertThatThrownBy(() -> s.approvals().approve(id, "alice", "[1,2]"))
        .isInstanceOfSatisfying(ApprovalException.class, e -> assertThat(e.reason())
            .isEqualTo(ApprovalException.Reason.INVALID_ARGUMENTS))
        .hasMessageContaining("Tool arguments must be a JSON object");
    assertThatThrownBy(() -> s.approvals().approve(id, " "))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("approver");
    s.approvals().approve(id, "alice");
    assertThatThrownBy(() -> s.approvals().deny(id, "bob", "late"))
        .isInstanceOfSatisfying(ApprovalException.class, e -> assertThat(e.reason())
            .isEqualTo(ApprovalException.Reason.ALREADY_DECIDED))
        .hasMessageContaining("was already approved by alice");
  }

  @Test
  void resumeGivesTheFinalDecisionWithoutRunningAnything() {
    SafeRun s = safeRun("defer");
    String id = s.evaluate(refund(7000)).approval().id();
    assertThat(s.resume(id).decision().isHeld()).isTrue();
    s.approvals().approve(id, "alice", "{\"amount\":6000}");
    Execution e = s.resume(id);
    assertThat(e.decision().isAllowed()).isTrue();
    assertThat(e.call().arguments()).isEqualTo("{\"amount\":6000}");
    assertThat(e.ran()).isFalse();
    assertThatThrownBy(() -> s.resume(id)).hasMessageContaining("already used");
  }

  @Test
  void theHostCanRunTheApprovedCallItself() throws Exception {
    SafeRun s = safeRun("defer");
    String id = s.evaluate(refund(7000)).approval().id();
    s.approvals().approve(id, "alice");
    Execution e = s.runApproved(id, refundTool);
    assertThat(e.output()).isEqualTo("refunded {\"amount\":7000,\"card\":\"4242\"}");
  }

  @Test
  void onPauseRunsOnTheCallingThreadAndItsFailureIsContained() throws Exception {
    List<String> threads = new CopyOnWriteArrayList<>();
    SafeRun s = SafeRun.builder()
        .policies(PolicySet.of(Fixtures.policy(String.format(TWO_TIER, "defer"))))
        .clock(clock).onPause(r -> {
          threads.add(Thread.currentThread().getName());
          throw new IllegalStateException("slack down");
        }).build();
    CompletableFuture<String> f = CompletableFuture.supplyAsync(() -> {
      try {
        return s.execute(refund(9000), refundTool);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, pool);
    assertThat(f.get(10, TimeUnit.SECONDS)).startsWith("[SAFERUN APPROVAL REQUIRED]");
    assertThat(threads).hasSize(1);
    assertThat(s.approvals().pending()).hasSize(1);
  }
}
