package dev.saferun;

/** The system clock; the only place in SafeRun that reads time directly. */
final class SystemClock implements Clock {
  static final SystemClock INSTANCE = new SystemClock();

  private SystemClock() {}

  @Override
  public long wallMillis() {
    return System.currentTimeMillis();
  }

  @Override
  public long monotonicNanos() {
    return System.nanoTime();
  }

  @Override
  public String toString() {
    return "Clock.system()";
  }
}
