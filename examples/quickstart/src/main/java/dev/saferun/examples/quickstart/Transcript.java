package dev.saferun.examples.quickstart;

import dev.saferun.approval.ApprovalRequest;
import dev.saferun.approval.OnPause;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import java.io.PrintStream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints SafeRun's decisions as they happen and counts them. It plugs into SafeRun twice: as the
 * {@link AuditSink}, which receives every decision before the tool runs, and as the
 * {@link OnPause} callback, which receives each approval request. A real host would write the
 * audit events to a log or a database and page a human from {@code onPause}.
 *
 * <p>Not thread-safe (the demo is single-threaded; SafeRun calls both on the calling thread).
 */
final class Transcript implements AuditSink, OnPause {
  static final String INDENT = "          ";
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

  private final PrintStream out;
  private int allowed;
  private int denied;
  private int held;
  private final List<String> approvalIds = new ArrayList<>();

  Transcript(PrintStream out) {
    this.out = out;
  }

  @Override
  public void record(AuditEvent e) {
    switch (e.type()) {
      case ALLOWED:
        allowed++;
        out.println(INDENT + "ALLOWED");
        break;
      case DENIED:
        denied++;
        out.println(INDENT + "DENIED   " + reason(e));
        break;
      case HELD:
        held++;
        approvalIds.add(e.approvalId());
        out.println(INDENT + "HELD     " + reason(e));
        out.println(INDENT + "         approval id " + e.approvalId());
        break;
      default:
        break; // EXECUTED and FAILED: the agent prints the tool's result itself
    }
  }

  @Override
  public void onPause(ApprovalRequest r) {
    out.println(INDENT + ">> onPause: supervisor paged, approve by " + TIME.format(r.expiresAt())
        + " UTC: " + r.tool() + " " + r.redactedArguments());
  }

  private static String reason(AuditEvent e) {
    return (e.rule() == null ? "" : "[" + e.rule() + "] ") + e.message();
  }

  int allowed() {
    return allowed;
  }

  int denied() {
    return denied;
  }

  int held() {
    return held;
  }

  List<String> approvalIds() {
    return List.copyOf(approvalIds);
  }

  static String time(long epochMillis) {
    return TIME.format(java.time.Instant.ofEpochMilli(epochMillis));
  }
}
