package dev.saferun.langchain4j;

import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import java.util.ArrayList;
import java.util.List;

/** Keeps every audit event, for assertions. Thread-safe. */
class RecordingAuditSink implements AuditSink {
  private final List<AuditEvent> events = new ArrayList<>();

  @Override
  public synchronized void record(AuditEvent event) {
    events.add(event);
  }

  synchronized List<AuditEvent> events() {
    return List.copyOf(events);
  }

  synchronized List<AuditEvent> ofType(AuditEvent.Type type) {
    return events.stream().filter(e -> e.type() == type).toList();
  }
}
