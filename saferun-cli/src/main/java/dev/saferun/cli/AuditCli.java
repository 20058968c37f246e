package dev.saferun.cli;

import dev.saferun.Clock;
import dev.saferun.Decision;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditLog;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** Helpers shared by the audit, runs and replay commands. Stateless. */
final class AuditCli {
  private static final Pattern AGO = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

  private AuditCli() {}

  /**
   * An instant option: {@code 2026-01-15T10:30:00Z}, {@code 2026-01-15T10:30} (UTC),
   * {@code 2026-01-15} (midnight UTC) or a duration ago ({@code 90m}, {@code 24h}, {@code 7d}).
   */
  static Instant instant(CommandLine cmd, String option, String text, Clock clock) {
    if (text == null) {
      return null;
    }
    Matcher m = AGO.matcher(text);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      Duration d;
      switch (m.group(2)) {
        case "ms":
          d = Duration.ofMillis(n);
          break;
        case "s":
          d = Duration.ofSeconds(n);
          break;
        case "m":
          d = Duration.ofMinutes(n);
          break;
        case "h":
          d = Duration.ofHours(n);
          break;
        default:
          d = Duration.ofDays(n);
      }
      return clock.instant().minus(d);
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      // try the next form
    }
    try {
      return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      // try the next form
    }
    try {
      return LocalDate.parse(text).atStartOfDay().toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw new ParameterException(cmd, option + " must be an instant (2026-01-15T10:30:00Z),"
          + " a date (2026-01-15, UTC) or a duration ago (90m, 24h, 7d), got '" + text + "'");
    }
  }

  /** The enforced outcome of a decision event, or {@code null} for other events. */
  static Decision.Outcome outcome(AuditEvent.Type type) {
    switch (type) {
      case ALLOWED:
        return Decision.Outcome.ALLOW;
      case DENIED:
        return Decision.Outcome.DENY;
      case HELD:
        return Decision.Outcome.HOLD;
      default:
        return null;
    }
  }

  /** {@code allowed}, {@code approval_denied}, ... */
  static String label(AuditEvent.Type type) {
    return type.name().toLowerCase(Locale.ROOT);
  }

  /** {@code allowed}, {@code denied}, {@code held} for an outcome. */
  static String label(Decision.Outcome outcome) {
    switch (outcome) {
      case ALLOW:
        return "allowed";
      case DENY:
        return "denied";
      default:
        return "held";
    }
  }

  /** Milliseconds with two decimals. */
  static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
  }

  /** {@code file:line} of an entry. */
  static String source(AuditLog.Entry e) {
    return e.file() + ":" + e.line();
  }

  /**
   * Reports on stderr what a reader met besides events: a torn last line, or a gap (events lost
   * or refused under load). Returns whether the entry is an event.
   */
  static boolean event(AuditLog.Entry e, PrintWriter err) {
    switch (e.kind()) {
      case EVENT:
        return true;
      case TORN:
        err.println("warning: " + source(e) + ": incomplete last record (" + e.dropped()
            + " bytes, a crash during a write) skipped; run 'saferun audit verify'");
        return false;
      case GAP:
        err.println("warning: " + source(e) + ": gap: " + e.dropped() + " event(s) dropped, "
            + e.rejected() + " refused while the audit queue was full or the writer failed");
        return false;
      default:
        return false;
    }
  }

  /** The message of an exception that ends a command: a file problem or an unreadable log. */
  static String message(Exception e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return ((java.nio.file.NoSuchFileException) e).getFile() + ": no such file or directory";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
