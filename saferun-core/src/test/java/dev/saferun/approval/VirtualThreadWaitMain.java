package dev.saferun.approval;

import dev.saferun.CallContext;
import dev.saferun.Execution;
import dev.saferun.Fixtures;
import dev.saferun.ManualClock;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Run by {@link VirtualThreadApprovalTest} on a JDK 21+: 1,000 virtual threads block in wait
 * mode at once, are approved, and each runs its tool once. Exits 0 on success. Not thread-safe
 * (a program).
 */
public final class VirtualThreadWaitMain {
  private VirtualThreadWaitMain() {}

  public static void main(String[] args) throws Exception {
    int n = 1000;
    Semaphore paused = new Semaphore(0);
    List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
    SafeRun s = SafeRun.builder()
        .policies(PolicySet.of(Fixtures.policy("version: \"1\"\ntools:\n  create_refund:\n"
            + "    rules:\n      - name: human\n        action: require_approval\n")))
        .clock(new ManualClock()).auditSink(AuditSink.NONE)
        .onPause(r -> {
          ids.add(r.id());
          paused.release();
        }).build();
    AtomicInteger ran = new AtomicInteger();
    AtomicInteger virtual = new AtomicInteger();
    ExecutorService pool = (ExecutorService) Executors.class
        .getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    List<Future<Execution>> fs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ToolCall call = ToolCall.of("create_refund", "{\"amount\":" + (5001 + i) + "}",
          CallContext.of("user", "u" + i));
      fs.add(pool.submit(() -> {
        if ((Boolean) Thread.class.getMethod("isVirtual").invoke(Thread.currentThread())) {
          virtual.incrementAndGet();
        }
        return s.run(call, c -> "ok " + ran.incrementAndGet());
      }));
    }
    if (!paused.tryAcquire(n, 60, TimeUnit.SECONDS)) {
      System.err.println("only " + paused.availablePermits() + " holds reached onPause");
      System.exit(2);
    }
    for (Future<Execution> f : fs) {
      if (f.isDone()) {
        System.err.println("a call did not wait for its approval");
        System.exit(3);
      }
    }
    for (String id : ids) {
      s.approvals().approve(id, "alice");
    }
    int allowed = 0;
    for (Future<Execution> f : fs) {
      allowed += f.get(60, TimeUnit.SECONDS).ran() ? 1 : 0;
    }
    pool.shutdown();
    System.out.println("virtual=" + virtual.get() + " allowed=" + allowed + " ran=" + ran.get());
    System.out.flush();
    System.exit(virtual.get() == n && allowed == n && ran.get() == n ? 0 : 4);
  }
}
