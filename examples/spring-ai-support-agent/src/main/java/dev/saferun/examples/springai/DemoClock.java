package dev.saferun.examples.springai;

import dev.saferun.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Clock} that stands still until the scripted model moves it, so every window, counter
 * and timestamp in the example is the same on every run. The Spring Boot auto-configuration
 * gives SafeRun the application's {@code Clock} bean when there is one.
 *
 * <p>Thread-safe.
 */
final class DemoClock implements Clock {
  private final AtomicLong millis;

  DemoClock(Instant start) {
    this.millis = new AtomicLong(start.toEpochMilli());
  }

  /** Moves the clock forward. */
  void advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("time only moves forward, got " + d);
    }
    millis.addAndGet(d.toMillis());
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
