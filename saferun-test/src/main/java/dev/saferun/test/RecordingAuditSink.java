package dev.saferun.test;

import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * An {@link AuditSink} that keeps every {@link AuditEvent} in memory, in the order SafeRun
 * recorded them, so a test can assert what was decided and in which order.
 *
 * <pre>{@code
 * RecordingAuditSink audit = new RecordingAuditSink();
 * SafeRun safeRun = SafeRun.builder().policies(set).clock(clock).auditSink(audit).build();
 * // ... calls ...
 * assertThat(audit.types()).containsExactly(HELD, APPROVED, ALLOWED);
 * assertThat(audit.summaries()).containsExactly(
 *     "HELD create_refund rule=\"large refunds need a human\"", ...);
 * }</pre>
 *
 * <p>{@link PolicyTester} records into one of these ({@link PolicyTester#audit()}); any SafeRun
 * test can use one directly.
 *
 * <p>Thread-safe: events recorded concurrently are all kept, in the order {@link #record} was
 * entered under a lock; every accessor returns an immutable snapshot.
 */
public final class RecordingAuditSink implements AuditSink {
  private final List<AuditEvent> events = new ArrayList<>();

  /** An empty sink. */
  public RecordingAuditSink() {}

  @Override
  public void record(AuditEvent event) {
    Objects.requireNonNull(event, "event");
    synchronized (events) {
      events.add(event);
    }
  }

  /** Every event recorded so far, oldest first. */
  public List<AuditEvent> events() {
    synchronized (events) {
      return List.copyOf(events);
    }
  }

  /** The events of the given types, oldest first. */
  public List<AuditEvent> events(AuditEvent.Type... types) {
    List<AuditEvent.Type> wanted = List.of(types);
    return filter(e -> wanted.contains(e.type()));
  }

  /** The events of one tool, oldest first. */
  public List<AuditEvent> eventsFor(String tool) {
    Objects.requireNonNull(tool, "tool");
    return filter(e -> e.tool().equals(tool));
  }

  /** The events that match {@code predicate}, oldest first. */
  public List<AuditEvent> filter(Predicate<? super AuditEvent> predicate) {
    List<AuditEvent> out = new ArrayList<>();
    for (AuditEvent e : events()) {
      if (predicate.test(e)) {
        out.add(e);
      }
    }
    return List.copyOf(out);
  }

  /** The type of every event, oldest first: the shape of what happened. */
  public List<AuditEvent.Type> types() {
    List<AuditEvent.Type> out = new ArrayList<>();
    for (AuditEvent e : events()) {
      out.add(e.type());
    }
    return List.copyOf(out);
  }

  /**
   * One line per event, oldest first, for {@code containsExactly}: the type, the tool, then the
   * rule and approver when there is one, e.g. {@code DENIED create_refund rule="hard limit"} or
   * {@code APPROVED create_refund rule="large refunds need a human" by=alice}.
   */
  public List<String> summaries() {
    List<String> out = new ArrayList<>();
    for (AuditEvent e : events()) {
      out.add(summary(e));
    }
    return List.copyOf(out);
  }

  /** The one-line form of {@link #summaries()} for a single event. */
  public static String summary(AuditEvent e) {
    StringBuilder sb = new StringBuilder().append(e.type()).append(' ').append(e.tool());
    if (e.rule() != null) {
      sb.append(" rule=\"").append(e.rule()).append('"');
    }
    if (e.approver() != null) {
      sb.append(" by=").append(e.approver());
    }
    return sb.toString();
  }

  /**
   * The most recent event.
   *
   * @throws IllegalStateException when nothing was recorded
   */
  public AuditEvent last() {
    synchronized (events) {
      if (events.isEmpty()) {
        throw new IllegalStateException("no audit event was recorded");
      }
      return events.get(events.size() - 1);
    }
  }

  /**
   * The most recent event of a type.
   *
   * @throws IllegalStateException when no event of that type was recorded
   */
  public AuditEvent last(AuditEvent.Type type) {
    List<AuditEvent> of = events(type);
    if (of.isEmpty()) {
      throw new IllegalStateException("no " + type + " audit event was recorded; recorded: "
          + summaries());
    }
    return of.get(of.size() - 1);
  }

  /** How many events were recorded. */
  public int size() {
    synchronized (events) {
      return events.size();
    }
  }

  /** Forgets every event recorded so far (for example after a test's setup calls). */
  public void clear() {
    synchronized (events) {
      events.clear();
    }
  }

  @Override
  public String toString() {
    return "RecordingAuditSink" + summaries();
  }
}
