package dev.saferun.audit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The SLF4J one-line-per-decision sink. */
final class Slf4jAuditSink implements AuditSink {
  static final Slf4jAuditSink INSTANCE = new Slf4jAuditSink();
  private static final Logger LOG = LoggerFactory.getLogger("dev.saferun.decisions");

  private Slf4jAuditSink() {}

  @Override
  public boolean enabled() {
    return LOG.isInfoEnabled();
  }

  @Override
  public void record(AuditEvent e) {
    boolean outcome = e.type() == AuditEvent.Type.EXECUTED || e.type() == AuditEvent.Type.FAILED;
    if (outcome ? !LOG.isDebugEnabled() : !LOG.isInfoEnabled()) {
      return;
    }
    StringBuilder sb = new StringBuilder(128).append("[SAFERUN] ").append(e.type())
        .append(" tool=").append(e.tool());
    if (e.policy() != null) {
      sb.append(" policy=").append(e.policy());
    }
    if (e.rule() != null) {
      sb.append(" rule=\"").append(e.rule()).append('"');
    }
    if (e.type() != AuditEvent.Type.ALLOWED && e.type() != AuditEvent.Type.EXECUTED
        && e.message() != null) {
      sb.append(" message=\"").append(e.message()).append('"');
    }
    if (e.shadow() != null) {
      sb.append(" shadow=").append(e.shadow().outcome());
      if (e.shadow().rule() != null) {
        sb.append("(\"").append(e.shadow().rule()).append("\")");
      }
    }
    if (e.approvalId() != null) {
      sb.append(" approval=").append(e.approvalId());
    }
    if (!e.context().asMap().isEmpty()) {
      sb.append(" context=").append(e.context());
    }
    if (e.arguments() != null) {
      sb.append(" args=").append(e.arguments());
    }
    if (outcome) {
      LOG.debug(sb.toString());
    } else {
      LOG.info(sb.toString());
    }
  }
}
