package dev.saferun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.RepeatedTest;

/** Non-negotiable 3: a cap is never exceeded, whatever the interleaving. */
class ConcurrencyTest {
  private static final int THREADS = 16;
  private static final int CALLS = 10_000;

  private static int hammer(SafeRun s, ToolCall call) throws Exception {
    AtomicInteger allowed = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        fs.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < CALLS / THREADS; i++) {
            if (s.evaluate(call).isAllowed()) {
              allowed.incrementAndGet();
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    return allowed.get();
  }

  @RepeatedTest(5)
  void sixteenThreadsTenThousandRefundsNeverExceedTheDailyCap() throws Exception {
    String yaml = "version: \"1\"\ntools:\n  create_refund:\n    rules:\n"
        + "      - name: daily refund total\n"
        + "        conditions: [{path: state.create_refund.daily_total, op: lte, value: 50000}]\n"
        + "        state: {counter: daily_total, window: day, increment_from: args.amount}\n"
        + "      - name: daily refund count\n"
        + "        conditions: [{path: state.create_refund.daily_count, op: lte, value: 700}]\n"
        + "        state: {counter: daily_count, window: day}\n"
        + "  \"*\":\n    rules:\n      - name: global\n        rate_limit: 9000/day\n";
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(yaml)))
        .clock(new ManualClock()).auditSink(AuditSink.NONE).build();
    int allowed = hammer(s, ToolCall.of("create_refund", "{\"amount\":100}"));
    assertThat(allowed).isEqualTo(500);
    CallContext none = CallContext.empty();
    assertThat(s.counter("create_refund.daily_total", none)).isEqualByComparingTo("50000");
    // all-or-nothing: every counter of the call moved together
    assertThat(s.counter("create_refund.daily_count", none)).isEqualByComparingTo("500");
    assertThat(s.counter("_global._rate_day", none)).isEqualByComparingTo("500");
  }

  @RepeatedTest(3)
  void countersSharedByTwoToolsStayExactWhenBothHitDifferentLimits() throws Exception {
    String yaml = "version: \"1\"\ntools:\n"
        + "  a:\n    rules:\n      - name: a cap\n        rate_limit: 3000/day\n"
        + "  b:\n    rules:\n      - name: b cap\n        rate_limit: 1000/day\n"
        + "  \"*\":\n    rules:\n      - name: global\n        rate_limit: 2500/day\n";
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(yaml)))
        .clock(new ManualClock()).auditSink(AuditSink.NONE).build();
    AtomicReference<Integer> a = new AtomicReference<>();
    Thread ta = new Thread(() -> {
      try {
        a.set(hammer(s, ToolCall.of("a", "{}")));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    ta.start();
    int b = hammer(s, ToolCall.of("b", "{}"));
    ta.join();
    CallContext none = CallContext.empty();
    assertThat(b).isLessThanOrEqualTo(1000);
    assertThat(a.get() + b).isEqualTo(2500);
    assertThat(s.counter("a._rate_day", none)).isEqualTo(new BigDecimal(a.get()));
    assertThat(s.counter("b._rate_day", none)).isEqualTo(new BigDecimal(b));
    assertThat(s.counter("_global._rate_day", none)).isEqualByComparingTo("2500");
  }
}
