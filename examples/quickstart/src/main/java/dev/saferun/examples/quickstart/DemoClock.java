package dev.saferun.examples.quickstart;

import dev.saferun.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Clock} that stands still until the script moves it, so every window, counter and
 * approval expiry in the demo is the same on every run. SafeRun reads time only through the
 * {@code Clock} it is given, which is what makes this possible. (Tests use {@code FakeClock} from
 * {@code saferun-test}; this example keeps to {@code saferun-core} at runtime.)
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
