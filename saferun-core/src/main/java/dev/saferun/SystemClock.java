package dev.saferun;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** The system clock; the only place in SafeRun that reads time directly. */
final class SystemClock implements Clock {
  static final SystemClock INSTANCE = new SystemClock();

  private static final class Timer {
    static final ScheduledExecutorService EXECUTOR = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "saferun-timer");
      t.setDaemon(true);
      return t;
    });
  }

  /** Schedules on a shared daemon thread after the delay measured on {@code clock}. */
  static Scheduled schedule(Clock clock, long atMillis, Runnable task) {
    long delay = Math.max(0L, atMillis - clock.wallMillis());
    ScheduledFuture<?> f = Timer.EXECUTOR.schedule(task, delay, TimeUnit.MILLISECONDS);
    return () -> f.cancel(false);
  }

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
