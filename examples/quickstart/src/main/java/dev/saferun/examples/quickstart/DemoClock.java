package dev.saferun.examples.quickstart;

import dev.saferun.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Clock} that stands still until the script moves it, so every window, counter and
 * approval expiry in the demo is the same on every run. SafeRun reads time, and schedules
 * approval expiry, only through the {@code Clock} it is given, which is what makes this possible.
 * Scheduled tasks run when the clock is moved to or past their time, on the thread that moves it:
 * no timer thread is started. (Tests use {@code FakeClock} from {@code saferun-test}, which works
 * the same way; this example keeps to {@code saferun-core} at runtime.)
 *
 * <p>Thread-safe.
 */
final class DemoClock implements Clock {
  private final AtomicLong millis;
  private final PriorityQueue<Task> tasks = new PriorityQueue<>(
      Comparator.comparingLong(Task::atMillis).thenComparingLong(Task::sequence));
  private long sequence;

  private record Task(long atMillis, long sequence, Runnable runnable) {}

  DemoClock(Instant start) {
    this.millis = new AtomicLong(start.toEpochMilli());
  }

  /** Moves the clock forward, then runs the scheduled tasks that are due, in time order. */
  void advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("time only moves forward, got " + d);
    }
    long now = millis.addAndGet(d.toMillis());
    List<Task> due = new ArrayList<>();
    synchronized (tasks) {
      while (!tasks.isEmpty() && tasks.peek().atMillis() <= now) {
        due.add(tasks.poll());
      }
    }
    due.forEach(t -> t.runnable().run());
  }

  @Override
  public Scheduled schedule(long atMillis, Runnable task) {
    Task t;
    synchronized (tasks) {
      t = new Task(atMillis, sequence++, task);
      tasks.add(t);
    }
    return () -> {
      synchronized (tasks) {
        tasks.remove(t);
      }
    };
  }

  @Override
  public long wallMillis() {
    return millis.get();
  }

  @Override
  public long monotonicNanos() {
    return millis.get() * 1_000_000L;
  }
}
