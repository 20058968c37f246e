package dev.saferun.internal.approval;

import dev.saferun.Clock;
import dev.saferun.approval.ApprovalException;
import dev.saferun.approval.ApprovalException.Reason;
import dev.saferun.approval.ApprovalRecord;
import dev.saferun.approval.ApprovalRecord.State;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.approval.Approvals;
import dev.saferun.audit.AuditEvent;
import dev.saferun.internal.json.Arguments;
import dev.saferun.internal.json.Canonical;
import dev.saferun.spi.ApprovalStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The approval state machine over an {@link ApprovalStore}: PENDING to APPROVED, DENIED or
 * EXPIRED (once), APPROVED to USED (once). Wakes calls waiting in wait mode and expires requests
 * through the injected clock's scheduler. Thread-safe.
 */
public final class ApprovalsImpl implements Approvals {

  /** Receives every transition, for the audit log. */
  public interface Events {
    void transition(ApprovalRecord record, AuditEvent.Type type, String message);
  }

  private final ApprovalStore store;
  private final Clock clock;
  private final Arguments arguments;
  private final Events events;
  private final Map<String, CompletableFuture<ApprovalRecord>> waiters = new ConcurrentHashMap<>();

  public ApprovalsImpl(ApprovalStore store, Clock clock, Arguments arguments, Events events) {
    this.store = store;
    this.clock = clock;
    this.arguments = arguments;
    this.events = events;
    store.subscribe(this::onStoreDecision);
  }

  /** A record changed in the store, maybe on another replica: wake local waiters. */
  private void onStoreDecision(String id) {
    ApprovalRecord r = store.get(id);
    if (r != null && r.state() != State.PENDING) {
      wake(r);
    }
  }

  public ApprovalStore store() {
    return store;
  }

  /** Stores a new hold and schedules its expiry. */
  public void hold(ApprovalRequest request) {
    store.create(ApprovalRecord.pending(request));
    clock.schedule(request.expiresAt().toEpochMilli(), () -> expireIfDue(request.id()));
  }

  /**
   * A future completed when the request leaves PENDING (at once if it already has). Works on
   * platform and virtual threads alike.
   */
  public CompletableFuture<ApprovalRecord> whenDecided(String id) {
    CompletableFuture<ApprovalRecord> f = waiters.computeIfAbsent(id,
        k -> new CompletableFuture<>());
    ApprovalRecord r = store.get(id);
    if (r == null) {
      f.completeExceptionally(notFound(id));
    } else if (r.state() != State.PENDING) {
      f.complete(r);
    } else if (!expireIfDue(id)) {
      return f;
    }
    waiters.remove(id, f);
    return f;
  }

  /**
   * Blocks until the request leaves PENDING and returns it. Woken at once by a local decision or
   * a store notification (another replica deciding); as a safety net against a lost
   * notification it also re-reads the store once a second (a bounded re-check, not a busy poll).
   */
  public ApprovalRecord awaitDecision(String id)
      throws InterruptedException, java.util.concurrent.ExecutionException {
    CompletableFuture<ApprovalRecord> f = whenDecided(id);
    while (true) {
      try {
        return f.get(1, java.util.concurrent.TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        ApprovalRecord r = store.get(id);
        if (r == null) {
          throw new java.util.concurrent.ExecutionException(notFound(id));
        }
        if (r.state() != State.PENDING || expireIfDue(id)) {
          ApprovalRecord now = store.get(id);
          wake(now);
          return now;
        }
      }
    }
  }

  /**
   * Marks an approved request used. Exactly one caller wins.
   *
   * @return the used record, or {@code null} if it was not (or no longer) approved
   */
  public ApprovalRecord use(String id) {
    ApprovalRecord r = store.get(id);
    if (r == null || r.state() != State.APPROVED) {
      return null;
    }
    ApprovalRecord used = r.withState(State.USED);
    return store.compareAndSet(id, State.APPROVED, used) ? used : null;
  }

  /** Expires a pending request whose time has come; returns whether it is now expired. */
  public boolean expireIfDue(String id) {
    ApprovalRecord r = store.get(id);
    if (r == null) {
      return false;
    }
    if (r.state() == State.EXPIRED) {
      return true;
    }
    Instant now = clock.instant();
    if (r.state() != State.PENDING || now.isBefore(r.request().expiresAt())) {
      return false;
    }
    ApprovalRecord expired = r.with(State.EXPIRED, null, null, null, null, now);
    if (store.compareAndSet(id, State.PENDING, expired)) {
      events.transition(expired, AuditEvent.Type.EXPIRED,
          "Approval " + id + " expired without a decision");
      wake(expired);
      return true;
    }
    ApprovalRecord now2 = store.get(id);
    return now2 != null && now2.state() == State.EXPIRED;
  }

  @Override
  public List<ApprovalRecord> pending() {
    List<ApprovalRecord> out = new ArrayList<>();
    for (ApprovalRecord r : store.pending()) {
      if (!expireIfDue(r.id())) {
        out.add(r);
      }
    }
    return out;
  }

  @Override
  public ApprovalRecord get(String id) {
    Objects.requireNonNull(id, "id");
    expireIfDue(id);
    ApprovalRecord r = store.get(id);
    if (r == null) {
      throw notFound(id);
    }
    return r;
  }

  @Override
  public ApprovalRecord approve(String id, String approver) {
    return decide(id, approver, null, true, null);
  }

  @Override
  public ApprovalRecord approve(String id, String approver, String editedArgumentsJson) {
    Objects.requireNonNull(editedArgumentsJson, "editedArgumentsJson");
    return decide(id, approver, editedArgumentsJson, true, null);
  }

  @Override
  public ApprovalRecord deny(String id, String approver, String reason) {
    return decide(id, approver, null, false, reason);
  }

  private ApprovalRecord decide(String id, String approver, String edited, boolean approve,
      String reason) {
    Objects.requireNonNull(id, "id");
    if (approver == null || approver.isBlank()) {
      throw new IllegalArgumentException("an approval decision needs the approver's identity");
    }
    ApprovalRecord r = get(id);
    requirePending(r);
    Instant now = clock.instant();
    ApprovalRecord next;
    String message;
    AuditEvent.Type type;
    if (approve) {
      String finalArgs = r.request().arguments();
      String finalHash = r.request().argumentsHash();
      if (edited != null) {
        Arguments.Parsed parsed = arguments.parse(edited);
        if (parsed.error() != null) {
          throw new ApprovalException(Reason.INVALID_ARGUMENTS,
              "Edited arguments for " + id + " refused: " + parsed.error());
        }
        finalArgs = Canonical.write(parsed.object());
        finalHash = Canonical.sha256(finalArgs);
      }
      next = r.with(State.APPROVED, approver, null, finalArgs, finalHash, now);
      type = AuditEvent.Type.APPROVED;
      message = next.edited() ? "Approved by " + approver + " with edited arguments"
          : "Approved by " + approver;
    } else {
      next = r.with(State.DENIED, approver, reason, null, null, now);
      type = AuditEvent.Type.APPROVAL_DENIED;
      message = "Denied by approver " + approver + (reason == null || reason.isBlank() ? ""
          : ": " + reason);
    }
    if (!store.compareAndSet(id, State.PENDING, next)) {
      requirePending(get(id)); // throws with the state that won
      throw new ApprovalException(Reason.ALREADY_DECIDED, "Approval " + id
          + " changed concurrently; try again");
    }
    events.transition(next, type, message);
    wake(next);
    return next;
  }

  private void requirePending(ApprovalRecord r) {
    switch (r.state()) {
      case PENDING:
        return;
      case EXPIRED:
        throw new ApprovalException(Reason.EXPIRED, "Approval " + r.id() + " expired at "
            + r.request().expiresAt() + "; it can no longer be decided");
      default:
        throw new ApprovalException(Reason.ALREADY_DECIDED, "Approval " + r.id() + " was already "
            + r.state().name().toLowerCase() + (r.approver() == null ? "" : " by " + r.approver())
            + (r.decidedAt() == null ? "" : " at " + r.decidedAt()));
    }
  }

  private void wake(ApprovalRecord r) {
    CompletableFuture<ApprovalRecord> f = waiters.remove(r.id());
    if (f != null) {
      f.complete(r);
    }
  }

  private static ApprovalException notFound(String id) {
    return new ApprovalException(Reason.NOT_FOUND, "No approval request " + id);
  }
}
