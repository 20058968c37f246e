package dev.saferun.examples.langchain4j;

import dev.saferun.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Clock} that stands still until the demo moves it (the scripted model moves it two
 * seconds per request), so the audit trail reads the same on every run. Thread-safe.
 */
final class DemoClock implements Clock {
  private final AtomicLong millis;

  DemoClock(Instant start) {
    this.millis = new AtomicLong(start.toEpochMilli());
  }

  void advance(Duration d) {
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
