package dev.saferun.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditEvent.Type;
import dev.saferun.policy.PolicyLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every audit event, in order, with accessors for ordered assertions. */
class RecordingAuditSinkTest {
  final RecordingAuditSink audit = new RecordingAuditSink();
  final FakeClock clock = new FakeClock();
  final SafeRun safeRun = SafeRun.builder()
      .policies(PolicyLoader.loadString("""
          version: "1"
          tools:
            read: {rules: []}
            refund:
              rules:
                - name: cap
                  conditions: [{path: args.amount, op: lte, value: 10}]
                - name: ask
                  action: require_approval
                  conditions: [{path: args.amount, op: gt, value: 5}]
          """, "p.yaml"))
      .clock(clock)
      .auditSink(audit)
      .build();

  @Test
  void recordsEveryDecisionInOrder() {
    safeRun.evaluate(ToolCall.of("read", "{}"));
    safeRun.evaluate(ToolCall.of("refund", "{\"amount\": 50}"));
    String id = safeRun.evaluate(ToolCall.of("refund", "{\"amount\": 7}")).approval().id();
    safeRun.approvals().approve(id, "alice");

    assertThat(audit.types()).containsExactly(Type.ALLOWED, Type.DENIED, Type.HELD,
        Type.APPROVED);
    assertThat(audit.summaries()).containsExactly(
        "ALLOWED read",
        "DENIED refund rule=\"cap\"",
        "HELD refund rule=\"ask\"",
        "APPROVED refund rule=\"ask\" by=alice");
    assertThat(audit.events()).extracting(AuditEvent::sequence).isSorted();
    assertThat(audit.size()).isEqualTo(4);
  }

  @Test
  void filtersByTypeAndTool() {
    safeRun.evaluate(ToolCall.of("read", "{}"));
    safeRun.evaluate(ToolCall.of("refund", "{\"amount\": 50}"));
    safeRun.evaluate(ToolCall.of("refund", "{\"amount\": 1}"));

    assertThat(audit.events(Type.DENIED)).singleElement()
        .extracting(AuditEvent::arguments).isEqualTo("{\"amount\":50}");
    assertThat(audit.eventsFor("refund")).extracting(AuditEvent::type)
        .containsExactly(Type.DENIED, Type.ALLOWED);
    assertThat(audit.filter(e -> e.rule() != null)).hasSize(1);
    assertThat(audit.last().arguments()).isEqualTo("{\"amount\":1}");
    assertThat(audit.last(Type.ALLOWED).tool()).isEqualTo("refund");
  }

  @Test
  void accessorsReturnSnapshotsAndClearForgets() {
    safeRun.evaluate(ToolCall.of("read", "{}"));
    List<AuditEvent> before = audit.events();

    audit.clear();
    safeRun.evaluate(ToolCall.of("refund", "{\"amount\": 1}"));

    assertThat(before).hasSize(1);
    assertThat(audit.summaries()).containsExactly("ALLOWED refund");
    assertThatThrownBy(() -> audit.last(Type.DENIED))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("no DENIED audit event was recorded; recorded: [ALLOWED refund]");
    audit.clear();
    assertThatThrownBy(audit::last).hasMessage("no audit event was recorded");
  }

  @Test
  void keepsEveryEventRecordedConcurrently() throws Exception {
    int threads = 8;
    int calls = 250;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < calls; i++) {
            safeRun.evaluate(ToolCall.of("read", "{}"));
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(audit.size()).isEqualTo(threads * calls);
    assertThat(audit.events()).extracting(AuditEvent::sequence).doesNotHaveDuplicates();
  }
}
