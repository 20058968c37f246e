package dev.saferun.examples.springai;

import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import java.io.PrintStream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.stereotype.Component;

/**
 * SafeRun's audit events, kept for printing: an {@link AuditSink} bean, which the
 * auto-configuration adds to SafeRun's sinks (next to the SLF4J decision log and the metrics).
 *
 * <p>Thread-safe.
 */
@Component
public class AuditTrail implements AuditSink {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
  private final List<AuditEvent> events = new CopyOnWriteArrayList<>();

  @Override
  public void record(AuditEvent event) {
    events.add(event);
  }

  /** Every event so far, in order. */
  public List<AuditEvent> events() {
    return List.copyOf(events);
  }

  /** Prints the trail; a run of identical denials is shown once, with a count. */
  void print(PrintStream out) {
    List<AuditEvent> all = events();
    for (int i = 0; i < all.size(); i++) {
      AuditEvent e = all.get(i);
      int j = i;
      while (j + 1 < all.size() && sameDenial(e, all.get(j + 1))) {
        j++;
      }
      line(out, i + 1, e);
      if (j > i + 1) {
        AuditEvent last = all.get(j);
        out.printf("  #%d-#%d %s... %d more DENIED %s, same rule and message, up to %s%n",
            i + 2, j + 1, " ".repeat(Math.max(0, 6 - digits(i + 2) - digits(j + 1))), j - i,
            last.tool(), last.arguments());
        i = j;
      }
    }
  }

  private static int digits(int n) {
    return Integer.toString(n).length();
  }

  private static boolean sameDenial(AuditEvent a, AuditEvent b) {
    return a.type() == AuditEvent.Type.DENIED && b.type() == AuditEvent.Type.DENIED
        && a.tool().equals(b.tool()) && Objects.equals(a.rule(), b.rule())
        && Objects.equals(a.message(), b.message());
  }

  private static void line(PrintStream out, int n, AuditEvent e) {
    String type = e.type().name();
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "  #%-5d %s  %-9s %s", n, TIME.format(e.time()), type,
        e.tool()));
    switch (e.type()) {
      case ALLOWED, DENIED, HELD -> {
        sb.append(' ').append(e.arguments());
        if (e.type() != AuditEvent.Type.ALLOWED) {
          sb.append('\n').append(" ".repeat(28));
          if (e.rule() != null) {
            sb.append('[').append(e.rule()).append("] ");
          }
          sb.append(e.message());
          if (e.approvalId() != null) {
            sb.append(" (approval ").append(e.approvalId(), 0, Math.min(12, e.approvalId().length()))
                .append("…)");
          }
        }
      }
      case APPROVED, APPROVAL_DENIED, EXPIRED -> sb.append("  ").append(e.message());
      case FAILED -> sb.append("  ").append(e.message());
      default -> {
        // EXECUTED: the tool ran
      }
    }
    out.println(sb);
  }
}
