package dev.saferun;

import java.time.Instant;

/**
 * The one source of time for SafeRun: wall time for counter windows and approval expiry, and a
 * monotonic reading for latency. Nothing in SafeRun reads the system clock directly, so tests
 * can drive every window and timeout with a fake clock (see {@code FakeClock} in
 * {@code saferun-test}).
 *
 * <p>Implementations must be thread-safe: one clock is read concurrently by every decision.
 */
public interface Clock {

  /** Wall-clock time, milliseconds since the epoch (UTC). Used for windows and expiry. */
  long wallMillis();

  /** A monotonic reading in nanoseconds, only meaningful as a difference. Used for latency. */
  long monotonicNanos();

  /** Wall-clock time as an {@link Instant}. */
  default Instant instant() {
    return Instant.ofEpochMilli(wallMillis());
  }

  /**
   * Runs {@code task} once this clock's wall time reaches {@code atMillis} (approval expiry,
   * notifier retries). The default runs it on a shared daemon thread after the equivalent real
   * delay; a fake clock runs due tasks when it is advanced, so tests never wait.
   *
   * @return a handle that cancels the task if it has not run
   */
  default Scheduled schedule(long atMillis, Runnable task) {
    return SystemClock.schedule(this, atMillis, task);
  }

  /** The system clock. Thread-safe. */
  static Clock system() {
    return SystemClock.INSTANCE;
  }

  /** A task scheduled with {@link #schedule}. Thread-safe. */
  interface Scheduled {
    /** Cancels the task; no effect once it has run. */
    void cancel();
  }
}
