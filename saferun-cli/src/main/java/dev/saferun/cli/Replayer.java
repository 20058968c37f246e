package dev.saferun.cli;

import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.approval.ApprovalException;
import dev.saferun.approval.ApprovalRecord;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditEvent.Type;
import dev.saferun.audit.AuditLog;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import dev.saferun.test.FakeClock;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Re-evaluates recorded calls under another policy set, on a {@link FakeClock} set to each
 * event's recorded time, so that counters fill and windows roll as they did.
 *
 * <p><b>Order.</b> Events are replayed in recorded time order (ties: by sequence number), sorted
 * within a window of {@link #WINDOW} events, enough for threads that enqueued slightly out of
 * order; the clock never goes backwards. <b>Instances.</b> Each SafeRun instance numbers its events
 * from 1, so a sequence number met twice means a new instance (a restart, or the next file of a
 * {@code saferun test --audit} run): its calls are replayed with fresh counters and approvals, as
 * an in-memory store would have had them, unless counters are shared (a shared state store).
 * <b>Approvals.</b> A recorded hold that the new policy also holds is approved (with the final,
 * possibly edited, arguments) or denied as recorded, and its re-evaluation is replayed; when the
 * new policy does not hold the call, the recorded approval steps have nothing to act on and the
 * re-evaluation is skipped (the change is reported at the original call). <b>Outcomes.</b> A
 * recorded tool failure refunds the replayed call's counters, as it did then.
 *
 * <p>Replay sees what the log holds: values at {@code redact:} paths are {@code "***"}.
 *
 * <p>Not thread-safe: one replay per instance.
 */
final class Replayer {
  static final int WINDOW = 10_000;
  /** The engine's denial when no policy matches: a policy-set decision like any other. */
  static final String NO_POLICY = "No policy applies to this call";

  /**
   * A call whose decision would change.
   *
   * @param entry where the recorded decision is
   * @param replayed the decision under the new policies
   */
  record Change(AuditLog.Entry entry, Decision replayed) {}

  private record Item(AuditLog.Entry entry, long ordinal) {}

  private record CallKey(String tool, Map<String, String> context, String approvalId) {}

  private final PolicySet policies;
  private final Map<String, BigDecimal> prices;
  private final boolean sharedCounters;
  private final Consumer<Change> changes;
  private final Map<String, String> finalArguments = new HashMap<>();
  private final PriorityQueue<Item> buffer = new PriorityQueue<>(Comparator
      .comparing((Item i) -> i.entry.event().time())
      .thenComparingLong(i -> i.entry.event().sequence())
      .thenComparingLong(Item::ordinal));
  private final List<String> notes = new ArrayList<>();

  private long ordinal;
  private long replayed;
  private long changed;
  private long skipped;
  private long redacted;
  private long late;
  private long controls;
  private int instances;

  private BitSet seen = new BitSet();
  private Set<Long> seenLarge = new HashSet<>();
  private FakeClock clock;
  private SafeRun safeRun;
  private Map<String, String> approvals;
  /** Recorded approval ids approved in the replay and not yet resumed, with their tools. */
  private Map<String, String> approved;
  private Map<CallKey, Deque<Decision>> running;

  Replayer(PolicySet policies, Map<String, BigDecimal> prices, boolean sharedCounters,
      Consumer<Change> changes) {
    this.policies = policies;
    this.prices = prices;
    this.sharedCounters = sharedCounters;
    this.changes = changes;
  }

  /** First pass: the final (possibly edited) arguments of each approved call. */
  void learn(AuditLog.Entry entry) {
    AuditEvent e = entry.event();
    if (e != null && e.approvalId() != null && e.arguments() != null
        && (e.type() == Type.ALLOWED || e.type() == Type.DENIED)) {
      finalArguments.putIfAbsent(e.approvalId(), e.arguments());
    }
  }

  /** Second pass: every event, in log order. */
  void accept(AuditLog.Entry entry) {
    AuditEvent e = entry.event();
    if (e == null) {
      return;
    }
    if (!sharedCounters && seenBefore(e.sequence())) {
      drain();
      seen = new BitSet();
      seenLarge = new HashSet<>();
      seenBefore(e.sequence());
      safeRun = null;
    }
    buffer.add(new Item(entry, ordinal++));
    if (buffer.size() > WINDOW) {
      process(buffer.poll().entry);
    }
  }

  /** Marks a sequence number; returns whether it had been seen in this instance already. */
  private boolean seenBefore(long sequence) {
    if (sequence >= 0 && sequence < Integer.MAX_VALUE) {
      boolean was = seen.get((int) sequence);
      seen.set((int) sequence);
      return was;
    }
    return !seenLarge.add(sequence);
  }

  /** Replays what is still buffered; call once after the last event. */
  void finish() {
    drain();
    if (late > 0) {
      notes.add(late + " event(s) were recorded more than " + WINDOW + " events out of time"
          + " order; they were replayed at the latest time already reached");
    }
    if (controls > 0) {
      notes.add(controls + " recorded denial(s) were made by runtime controls (kill switch, error"
          + " breaker, an unavailable store), not by policy; they are not replayed");
    }
    if (skipped > 0) {
      notes.add(skipped + " approval re-evaluation(s) not replayed: the new policies do not hold"
          + " the original call the same way (its change is reported at the original call)");
    }
    if (redacted > 0) {
      notes.add(redacted + " call(s) had redacted values (\"***\"): replay evaluates what the"
          + " log holds, so a condition on a redacted path sees \"***\"");
    }
  }

  private void drain() {
    while (!buffer.isEmpty()) {
      process(buffer.poll().entry);
    }
  }

  private void start(Instant at) {
    clock = new FakeClock(at);
    safeRun = SafeRun.builder().policies(policies).clock(clock).prices(prices)
        .auditSink(AuditSink.NONE).build();
    approvals = new HashMap<>();
    approved = new java.util.LinkedHashMap<>();
    running = new HashMap<>();
    instances++;
  }

  private void process(AuditLog.Entry entry) {
    AuditEvent e = entry.event();
    if (safeRun == null) {
      start(e.time());
    }
    if (e.time().isAfter(clock.instant())) {
      clock.set(e.time());
    } else if (e.time().isBefore(clock.instant())) {
      late++;
    }
    switch (e.type()) {
      case ALLOWED:
      case DENIED:
      case HELD:
        decision(entry, e);
        break;
      case APPROVED:
        approve(e);
        break;
      case APPROVAL_DENIED:
        String id = approvals.get(e.approvalId());
        if (id != null) {
          try {
            safeRun.approvals().deny(id, e.approver() == null ? "replay" : e.approver(),
                "as recorded");
          } catch (ApprovalException ex) {
            // already decided or expired in the replay: nothing to deny
          }
        }
        break;
      case EXECUTED:
        take(e);
        break;
      case FAILED:
        Decision d = take(e);
        if (d != null) {
          safeRun.refund(d);
        }
        break;
      default: // EXPIRED: the replay's own clock expires its requests
        break;
    }
  }

  private void decision(AuditLog.Entry entry, AuditEvent e) {
    if (e.type() == Type.DENIED && e.policy() == null && e.rule() == null && e.message() != null
        && !e.message().equals(NO_POLICY) && !e.message().startsWith("Tool arguments")) {
      // Denied by a runtime control (kill switch, breaker, a store or audit failure), not by
      // policy: nothing to compare, and nothing was charged.
      controls++;
      return;
    }
    boolean reevaluation = e.approvalId() != null
        && (e.type() != Type.HELD || e.approver() != null);
    Decision d;
    if (reevaluation) {
      // A re-evaluation after approval; a HELD one was held again by a later approval rule
      // and names its new request, so its source is the latest approved request of the tool.
      String recorded = e.type() == Type.HELD ? latestApproved(e.tool()) : e.approvalId();
      String id = recorded == null ? null : approvals.get(recorded);
      if (id == null || approved.remove(recorded) == null) {
        skipped++;
        return;
      }
      try {
        d = safeRun.resume(id).decision();
      } catch (ApprovalException ex) {
        skipped++;
        return;
      }
      if (e.type() == Type.HELD && d.isHeld() && d.approval() != null) {
        approvals.put(e.approvalId(), d.approval().id());
      }
    } else {
      d = safeRun.evaluate(new ToolCall(e.tool(), e.arguments(), e.context()));
      if (d.isHeld() && d.approval() != null && e.type() == Type.HELD
          && e.approvalId() != null) {
        approvals.put(e.approvalId(), d.approval().id());
      }
    }
    replayed++;
    if (e.arguments() != null && e.arguments().contains("\"***\"")) {
      redacted++;
    }
    if (e.type() == Type.ALLOWED && d.isAllowed()) {
      running.computeIfAbsent(key(e), k -> new ArrayDeque<>()).add(d);
    }
    if (AuditCli.outcome(e.type()) != d.outcome() || !Objects.equals(e.rule(), d.rule())) {
      changed++;
      changes.accept(new Change(entry, d));
    }
  }

  private void approve(AuditEvent e) {
    String id = approvals.get(e.approvalId());
    if (id == null) {
      return;
    }
    String approver = e.approver() == null ? "replay" : e.approver();
    try {
      ApprovalRecord r = safeRun.approvals().get(id);
      String edited = finalArguments.get(e.approvalId());
      if (edited != null && !edited.equals(r.request().redactedArguments())) {
        safeRun.approvals().approve(id, approver, edited);
      } else {
        safeRun.approvals().approve(id, approver);
      }
      approved.put(e.approvalId(), e.tool());
    } catch (ApprovalException ex) {
      notes.add("approval " + e.approvalId() + " could not be replayed: " + ex.getMessage());
    }
  }

  private String latestApproved(String tool) {
    String found = null;
    for (Map.Entry<String, String> a : approved.entrySet()) {
      if (a.getValue().equals(tool)) {
        found = a.getKey();
      }
    }
    return found;
  }

  private Decision take(AuditEvent e) {
    Deque<Decision> q = running.get(key(e));
    if (q == null || q.isEmpty()) {
      return null;
    }
    Decision d = q.poll();
    if (q.isEmpty()) {
      running.remove(key(e));
    }
    return d;
  }

  private static CallKey key(AuditEvent e) {
    return new CallKey(e.tool(), e.context().asMap(), e.approvalId());
  }

  long replayed() {
    return replayed;
  }

  long changed() {
    return changed;
  }

  int instances() {
    return instances;
  }

  List<String> notes() {
    return notes;
  }
}
