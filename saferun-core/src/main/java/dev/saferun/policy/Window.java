package dev.saferun.policy;

import java.util.Objects;

/**
 * A counter window: fixed ({@code minute}, {@code hour}, {@code day}, aligned to UTC and reset at
 * each boundary) or rolling (a duration such as {@code 15m}: the total over any interval of that
 * length never exceeds the limit).
 *
 * <p>Rolling windows are kept in {@value #ROLLING_BUCKETS} buckets of {@code length / 60} (at
 * least 1 ms). A charge counts for its whole bucket, so a rolling limit may deny up to one bucket
 * early (at most 1/60 of the window), and never late.
 *
 * <p>Immutable and thread-safe.
 *
 * @param fixed {@code true} for minute/hour/day, {@code false} for a rolling duration
 * @param millis the window's length in milliseconds
 * @param text the window as written, e.g. {@code day} or {@code 24h}; part of a counter's identity
 */
public record Window(boolean fixed, long millis, String text) {

  /** Number of buckets a rolling window is divided into. */
  public static final int ROLLING_BUCKETS = 60;

  public static final Window MINUTE = new Window(true, 60_000L, "minute");
  public static final Window HOUR = new Window(true, 3_600_000L, "hour");
  public static final Window DAY = new Window(true, 86_400_000L, "day");

  public Window {
    Objects.requireNonNull(text, "text");
    if (millis <= 0) {
      throw new IllegalArgumentException("window length must be positive, got " + millis + " ms");
    }
  }

  /**
   * Parses {@code minute|hour|day} or a duration ({@code 30s}, {@code 15m}, {@code 24h}, {@code 7d}).
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public static Window parse(String text) {
    switch (text) {
      case "minute":
        return MINUTE;
      case "hour":
        return HOUR;
      case "day":
        return DAY;
      default:
        try {
          return new Window(false, Durations.parse(text).toMillis(), text);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "window must be minute, hour, day or a duration like 30s, 15m, 24h, 7d, got '"
                  + text + "'");
        }
    }
  }

  /** Length of one bucket: the window itself when fixed, {@code millis / 60} (≥ 1 ms) when rolling. */
  public long bucketMillis() {
    return fixed ? millis : Math.max(1L, millis / ROLLING_BUCKETS);
  }

  /** Index of the bucket holding instant {@code nowMillis}. */
  public long bucketOf(long nowMillis) {
    return Math.floorDiv(nowMillis, bucketMillis());
  }

  /**
   * The oldest bucket still counted at {@code nowMillis}: the current one for a fixed window; for
   * a rolling window, the bucket that overlaps the start of {@code (now - length, now]}.
   */
  public long oldestLiveBucket(long nowMillis) {
    return fixed ? bucketOf(nowMillis) : Math.floorDiv(nowMillis - millis, bucketMillis());
  }

  /** How long a charge made now can still count: the window plus one bucket. */
  public long retentionMillis() {
    return millis + bucketMillis();
  }

  @Override
  public String toString() {
    return text;
  }
}
