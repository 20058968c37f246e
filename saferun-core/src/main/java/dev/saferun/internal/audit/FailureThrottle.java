package dev.saferun.internal.audit;

import dev.saferun.Clock;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides which of a stream of repeated failures get a log line: the first (with its stack
 * trace), then at most one per interval measured on the injected clock, each saying how many
 * failures were not logged since the line before; after a minute without failures, the next
 * one gets its stack trace again. A failing audit sink refuses every call; one
 * stack trace per refusal would flood the log and slow the calling threads. Thread-safe; the
 * silent path takes no lock.
 */
public final class FailureThrottle {
  /** After this long without a logged line, the next failure gets its stack trace again. */
  static final long QUIET_MILLIS = 60_000L;

  /**
   * What to log for one failure.
   *
   * @param notLogged failures not logged since the previous line
   * @param stackTrace whether to log this one with its stack trace (the first failure, or the
   *     first after a quiet minute: perhaps a new outage of another kind)
   */
  public record Line(long notLogged, boolean stackTrace) {}

  private final Clock clock;
  private final long intervalMillis;
  private final AtomicLong suppressed = new AtomicLong();
  private volatile boolean started;
  private volatile long lastLine;

  public FailureThrottle(Clock clock, long intervalMillis) {
    this.clock = clock;
    this.intervalMillis = intervalMillis;
  }

  /** Called once per failure: the line to log, or {@code null} to log nothing (counted). */
  public Line next() {
    long now = clock.wallMillis();
    if (started && quiet(now)) {
      suppressed.incrementAndGet();
      return null;
    }
    synchronized (this) {
      if (started && quiet(now)) {
        suppressed.incrementAndGet();
        return null;
      }
      boolean stackTrace = !started || now - lastLine >= QUIET_MILLIS;
      started = true;
      lastLine = now;
      return new Line(suppressed.getAndSet(0), stackTrace);
    }
  }

  /** Within the interval of the last line (a clock that went back counts as elapsed). */
  private boolean quiet(long now) {
    long since = now - lastLine;
    return since >= 0 && since < intervalMillis;
  }
}
