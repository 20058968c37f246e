package dev.saferun.test;

import dev.saferun.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} that moves only when a test moves it, so counter windows, approval timeouts and
 * latency can be tested by advancing time instead of sleeping.
 *
 * <pre>{@code
 * FakeClock clock = new FakeClock();                 // 2026-01-01T00:00:00Z
 * SafeRun safeRun = SafeRun.builder().policies(set).clock(clock).build();
 * // ... ten calls fill a "minute" window ...
 * clock.advance(Duration.ofMinutes(1));              // the next window starts
 * }</pre>
 *
 * <p>Wall time and monotonic time advance together: {@link #advance} moves both by the same
 * amount. {@link #set} may move wall time backwards (to test a host clock that jumps), but the
 * monotonic reading never decreases: it moves forward by the same amount as a forward
 * {@code set} and stays put on a backward one.
 *
 * <p>Tasks {@linkplain #schedule scheduled} on the clock (approval expiry, retries) run when the
 * clock is advanced or set to or past their time, in time order, on the thread that moves the
 * clock, after the move; a task already due when it is scheduled runs at the next move. So a test
 * that advances past an approval's timeout sees the expiry happen before {@code advance} returns.
 *
 * <p>Thread-safe: wall and monotonic time are updated together atomically, reads never block, and
 * each scheduled task runs at most once even when several threads move the clock.
 */
public final class FakeClock implements Clock {
  /** Where a {@code FakeClock} starts unless told otherwise: 2026-01-01T00:00:00Z. */
  public static final Instant DEFAULT_START = Instant.parse("2026-01-01T00:00:00Z");

  private final AtomicReference<State> state;
  private final PriorityQueue<Task> tasks = new PriorityQueue<>(
      Comparator.comparingLong(Task::atMillis).thenComparingLong(Task::sequence));
  private long sequence;

  /** Wall time and the monotonic reading, always replaced together. */
  private record State(Instant wall, long monotonic) {}

  /** A scheduled task; cancelled tasks are removed from the queue. */
  private record Task(long atMillis, long sequence, Runnable runnable) {}

  /** A clock at {@link #DEFAULT_START}. */
  public FakeClock() {
    this(DEFAULT_START);
  }

  /** A clock at {@code start}. */
  public FakeClock(Instant start) {
    Objects.requireNonNull(start, "start");
    this.state = new AtomicReference<>(new State(start, 0L));
  }

  /** A clock at an ISO-8601 instant such as {@code 2026-01-15T10:30:00Z}. */
  public static FakeClock at(String isoInstant) {
    return new FakeClock(Instant.parse(isoInstant));
  }

  /**
   * Moves wall and monotonic time forward by {@code amount}, then runs the scheduled tasks that
   * are due.
   *
   * @throws IllegalArgumentException if {@code amount} is negative
   */
  public void advance(Duration amount) {
    Objects.requireNonNull(amount, "amount");
    if (amount.isNegative()) {
      throw new IllegalArgumentException("a FakeClock only advances; got " + amount
          + " (use set(Instant) to move wall time backwards)");
    }
    long nanos = amount.toNanos();
    state.updateAndGet(s -> new State(s.wall.plus(amount), s.monotonic + nanos));
    runDueTasks();
  }

  /**
   * Sets wall time, then runs the scheduled tasks that are due. Moving forward also moves
   * monotonic time by the same amount; moving backwards leaves monotonic time where it is (it
   * never decreases).
   */
  public void set(Instant instant) {
    Objects.requireNonNull(instant, "instant");
    state.updateAndGet(s -> {
      Duration delta = Duration.between(s.wall, instant);
      long forward = delta.isNegative() ? 0L : delta.toNanos();
      return new State(instant, s.monotonic + forward);
    });
    runDueTasks();
  }

  /**
   * Runs {@code task} once this clock has been moved to or past {@code atMillis} (see the class
   * description); never on a background thread.
   */
  @Override
  public Scheduled schedule(long atMillis, Runnable task) {
    Objects.requireNonNull(task, "task");
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

  /** How many scheduled tasks have neither run nor been cancelled. */
  public int pendingTasks() {
    synchronized (tasks) {
      return tasks.size();
    }
  }

  /**
   * Runs every due task in time order, outside the lock (a task may schedule another or move
   * the clock). If tasks throw, the others still run and the first exception is rethrown.
   */
  private void runDueTasks() {
    RuntimeException failure = null;
    while (true) {
      Task next;
      synchronized (tasks) {
        Task head = tasks.peek();
        if (head == null || head.atMillis > wallMillis()) {
          break;
        }
        next = tasks.poll();
      }
      try {
        next.runnable.run();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public long wallMillis() {
    return state.get().wall.toEpochMilli();
  }

  @Override
  public long monotonicNanos() {
    return state.get().monotonic;
  }

  @Override
  public Instant instant() {
    return state.get().wall;
  }

  @Override
  public String toString() {
    return "FakeClock[" + state.get().wall + "]";
  }
}
