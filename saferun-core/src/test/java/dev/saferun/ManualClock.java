package dev.saferun;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A settable clock for core's own tests (core cannot depend on saferun-test's FakeClock without a
 * build cycle).
 */
public final class ManualClock implements Clock {
  private final AtomicLong millis;

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

  public ManualClock advance(Duration d) {
    millis.addAndGet(d.toMillis());
    return this;
  }

  public ManualClock set(String instant) {
    millis.set(Instant.parse(instant).toEpochMilli());
    return this;
  }
}
