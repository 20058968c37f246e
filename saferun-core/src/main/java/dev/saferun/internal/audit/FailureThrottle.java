package dev.saferun.internal.audit;

import dev.saferun.Clock;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides which of a stream of repeated failures get a log line: the first (with its stack
 * trace), then at most one per interval measured on the injected clock, each saying how many
 * failures were not logged since the line before. A failing audit sink refuses every call; one
 * stack trace per refusal would flood the log and slow the calling threads. Thread-safe; the
 * silent path takes no lock.
 */
public final class FailureThrottle {
  /** {@link #next()}: the first failure; log it with its stack trace. */
  public static final long FIRST = -2;
  /** {@link #next()}: do not log this one (it is counted for the next line). */
  public static final long SILENT = -1;

  private final Clock clock;
  private final long intervalMillis;
  private final AtomicLong suppressed = new AtomicLong();
  private volatile boolean started;
  private volatile long lastLine;

  public FailureThrottle(Clock clock, long intervalMillis) {
    this.clock = clock;
    this.intervalMillis = intervalMillis;
  }

  /**
   * Called once per failure: {@link #FIRST}, {@link #SILENT}, or (for a line to log without a
   * stack trace) how many failures were silent since the previous line.
   */
  public long next() {
    long now = clock.wallMillis();
    if (started && quiet(now)) {
      suppressed.incrementAndGet();
      return SILENT;
    }
    synchronized (this) {
      if (!started) {
        started = true;
        lastLine = now;
        return FIRST;
      }
      if (quiet(now)) {
        suppressed.incrementAndGet();
        return SILENT;
      }
      lastLine = now;
      return suppressed.getAndSet(0);
    }
  }

  /** Within the interval of the last line (a clock that went back counts as elapsed). */
  private boolean quiet(long now) {
    long since = now - lastLine;
    return since >= 0 && since < intervalMillis;
  }
}
