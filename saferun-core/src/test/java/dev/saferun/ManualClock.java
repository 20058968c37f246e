package dev.saferun;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A settable clock for core's own tests (core cannot depend on saferun-test's FakeClock without a
 * build cycle). Scheduled tasks run, in time order, on the thread that advances the clock.
 */
public final class ManualClock implements Clock {
  private final AtomicLong millis;
  private final List<long[]> order = new ArrayList<>();
  private final List<Runnable> tasks = new ArrayList<>();
  private long seq;

  public ManualClock(String instant) {
    this.millis = new AtomicLong(Instant.parse(instant).toEpochMilli());
  }

  public ManualClock() {
    this("2026-01-15T10:30:00Z");
  }

  @Override
  public long wallMillis() {
    return millis.get();
  }

  @Override
  public long monotonicNanos() {
    return millis.get() * 1_000_000L;
  }

  @Override
  public synchronized Scheduled schedule(long atMillis, Runnable task) {
    long id = seq++;
    order.add(new long[] {atMillis, id});
    tasks.add(task);
    notifyAll();
    return () -> {
      synchronized (this) {
        int i = indexOf(id);
        if (i >= 0) {
          order.remove(i);
          tasks.remove(i);
        }
      }
    };
  }

  private int indexOf(long id) {
    for (int i = 0; i < order.size(); i++) {
      if (order.get(i)[1] == id) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Waits (bounded, on the monitor) until at least {@code n} tasks are scheduled: for tests where
   * another thread schedules work, such as a retry after an HTTP response.
   */
  public synchronized boolean awaitScheduled(int n, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    while (tasks.size() < n) {
      long left = (deadline - System.nanoTime()) / 1_000_000L;
      if (left <= 0) {
        return false;
      }
      wait(left);
    }
    return true;
  }

  /** Number of scheduled tasks not yet run. */
  public synchronized int pendingTasks() {
    return tasks.size();
  }

  public ManualClock advance(Duration d) {
    millis.addAndGet(d.toMillis());
    runDue();
    return this;
  }

  public ManualClock set(String instant) {
    millis.set(Instant.parse(instant).toEpochMilli());
    runDue();
    return this;
  }

  private void runDue() {
    while (true) {
      Runnable next = null;
      synchronized (this) {
        int best = -1;
        for (int i = 0; i < order.size(); i++) {
          if (order.get(i)[0] <= millis.get()
              && (best < 0 || order.get(i)[0] < order.get(best)[0])) {
            best = i;
          }
        }
        if (best >= 0) {
          order.remove(best);
          next = tasks.remove(best);
        }
      }
      if (next == null) {
        return;
      }
      next.run();
    }
  }
}
