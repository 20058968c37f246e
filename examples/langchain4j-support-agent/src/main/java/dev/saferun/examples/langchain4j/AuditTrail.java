package dev.saferun.examples.langchain4j;

import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import java.io.PrintStream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Keeps SafeRun's audit events and prints them as a trail, one line per event, folding a long
 * run of identical decisions (same type, tool, rule and message) into one line. Thread-safe.
 */
final class AuditTrail implements AuditSink {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
  /** A run of identical events longer than this is folded. */
  private static final int FOLD_AFTER = 3;

  private final List<AuditEvent> events = new ArrayList<>();

  @Override
  public synchronized void record(AuditEvent event) {
    events.add(event);
  }

  synchronized List<AuditEvent> events() {
    return List.copyOf(events);
  }

  long count(AuditEvent.Type type, String tool) {
    return events().stream().filter(e -> e.type() == type && e.tool().equals(tool)).count();
  }

  void print(PrintStream out) {
    List<AuditEvent> all = events();
    int i = 0;
    while (i < all.size()) {
      int end = i + 1;
      while (end < all.size() && same(all.get(i), all.get(end))) {
        end++;
      }
      int shown = end - i > FOLD_AFTER + 1 ? FOLD_AFTER : end - i;
      for (int k = i; k < i + shown; k++) {
        out.println(line(all.get(k)));
      }
      if (shown < end - i) {
        AuditEvent next = all.get(i + shown);
        AuditEvent last = all.get(end - 1);
        out.printf("  %-15s   ... %d more %s %s, same rule and message, up to %s%n",
            "#" + next.sequence() + "-#" + last.sequence(), end - i - shown, last.type(),
            last.tool(), last.arguments());
      }
      i = end;
    }
  }

  private static boolean same(AuditEvent a, AuditEvent b) {
    return a.type() == b.type() && a.tool().equals(b.tool()) && Objects.equals(a.rule(), b.rule())
        && Objects.equals(a.message(), b.message());
  }

  private static String line(AuditEvent e) {
    StringBuilder s = new StringBuilder(String.format("  %-6s %-8s  %-8s  %s", "#" + e.sequence(),
        TIME.format(e.time()), e.type(), e.tool()));
    if (e.arguments() != null) {
      s.append(' ').append(e.arguments());
    }
    if (e.type() == AuditEvent.Type.DENIED || e.type() == AuditEvent.Type.HELD) {
      s.append("\n").append(" ".repeat(28)).append(e.rule() == null ? "" : "[" + e.rule() + "] ")
          .append(e.message());
    }
    return s.toString();
  }
}
