package dev.saferun.policy;

import java.time.Duration;

/** Parses SafeRun durations: {@code <n><unit>} with unit {@code ms|s|m|h|d}. */
final class Durations {
  private Durations() {}

  static Duration parse(String text) {
    if (text == null || text.length() < 2) {
      throw new IllegalArgumentException("bad duration '" + text + "'");
    }
    String unit;
    String digits;
    if (text.endsWith("ms")) {
      unit = "ms";
      digits = text.substring(0, text.length() - 2);
    } else {
      unit = text.substring(text.length() - 1);
      digits = text.substring(0, text.length() - 1);
    }
    if (digits.isEmpty() || digits.length() > 12 || !digits.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException("bad duration '" + text + "'");
    }
    long n = Long.parseLong(digits);
    if (n <= 0) {
      throw new IllegalArgumentException("duration must be positive, got '" + text + "'");
    }
    switch (unit) {
      case "ms":
        return Duration.ofMillis(n);
      case "s":
        return Duration.ofSeconds(n);
      case "m":
        return Duration.ofMinutes(n);
      case "h":
        return Duration.ofHours(n);
      case "d":
        return Duration.ofDays(n);
      default:
        throw new IllegalArgumentException("bad duration unit in '" + text + "'");
    }
  }

  static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 86_400_000L == 0) {
      return ms / 86_400_000L + "d";
    }
    if (ms % 3_600_000L == 0) {
      return ms / 3_600_000L + "h";
    }
    if (ms % 60_000L == 0) {
      return ms / 60_000L + "m";
    }
    if (ms % 1000L == 0) {
      return ms / 1000L + "s";
    }
    return ms + "ms";
  }
}
