package dev.saferun.redis;

import dev.saferun.CallContext;
import dev.saferun.Execution;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Many threads making the same refund call through one SafeRun; counts what ran. Stateless. */
final class Hammer {
  /** $50.00 a day across every replica, charged 12.50 at a time: exactly 400 refunds. */
  static final String CAP_POLICY = String.join("\n",
      "version: \"1\"",
      "tools:",
      "  create_refund:",
      "    rules:",
      "      - name: daily refund total",
      "        conditions: [{path: state.create_refund.daily_total, op: lte, value: 5000}]",
      "        state: {counter: daily_total, window: day, increment_from: args.amount}",
      "  \"*\":",
      "    rules:",
      "      - name: global",
      "        rate_limit: 100000/day",
      "");
  static final int CAP_CALLS = 400;
  static final ToolCall REFUND = ToolCall.of("create_refund", "{\"amount\":12.50}",
      CallContext.of("user", "u1"));

  private Hammer() {}

  static SafeRun safeRun(RedisStateStore store) {
    return SafeRun.builder().policies(PolicySet.of(PolicyLoader.loadString(CAP_POLICY, "cap.yaml")))
        .stateStore(store).auditSink(AuditSink.NONE).build();
  }

  /** Result of one hammer: how many calls ran the tool, and how many decisions were made. */
  record Result(int ran, int decided) {}

  /** Runs {@code threads x calls} refunds once {@code go} opens; returns how many ran the tool. */
  static Result run(SafeRun s, int threads, int calls, CountDownLatch go) throws Exception {
    AtomicInteger ran = new AtomicInteger();
    AtomicInteger decided = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        fs.add(pool.submit(() -> {
          go.await();
          for (int i = 0; i < calls; i++) {
            Execution e = s.run(REFUND, call -> {
              ran.incrementAndGet();
              return "ok";
            });
            decided.incrementAndGet();
            if (e.decision().isAllowed() != e.ran()) {
              throw new AssertionError("allowed but not run, or run but not allowed: " + e);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    return new Result(ran.get(), decided.get());
  }
}
