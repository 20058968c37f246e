package dev.saferun.internal.approval;

import dev.saferun.approval.ApprovalRecord;
import dev.saferun.spi.ApprovalStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Approval records in this JVM. Transitions are atomic per record ({@link ConcurrentHashMap}
 * compute). Decided records are kept so late approvals get a clear "already decided" answer;
 * call-key lookups find only open ones. Thread-safe.
 */
public final class InMemoryApprovalStore implements ApprovalStore {
  private final Map<String, ApprovalRecord> byId = new ConcurrentHashMap<>();
  private final Map<String, String> openByCallKey = new ConcurrentHashMap<>();

  @Override
  public void create(ApprovalRecord record) {
    if (byId.putIfAbsent(record.id(), record) != null) {
      throw new IllegalStateException("duplicate approval id " + record.id());
    }
    String key = record.request().callKey();
    if (key != null) {
      openByCallKey.put(key, record.id());
    }
  }

  @Override
  public ApprovalRecord get(String id) {
    return byId.get(id);
  }

  @Override
  public List<ApprovalRecord> pending() {
    List<ApprovalRecord> out = new ArrayList<>();
    for (ApprovalRecord r : byId.values()) {
      if (r.state() == ApprovalRecord.State.PENDING) {
        out.add(r);
      }
    }
    out.sort(Comparator.comparing((ApprovalRecord r) -> r.request().createdAt())
        .thenComparing(ApprovalRecord::id));
    return out;
  }

  @Override
  public boolean compareAndSet(String id, ApprovalRecord.State expected, ApprovalRecord next) {
    boolean[] done = {false};
    byId.computeIfPresent(id, (k, current) -> {
      if (current.state() != expected) {
        return current;
      }
      done[0] = true;
      return next;
    });
    if (done[0] && next.state() != ApprovalRecord.State.PENDING
        && next.state() != ApprovalRecord.State.APPROVED) {
      String key = next.request().callKey();
      if (key != null) {
        openByCallKey.remove(key, id);
      }
    }
    return done[0];
  }

  @Override
  public ApprovalRecord findOpen(String callKey) {
    String id = openByCallKey.get(callKey);
    if (id == null) {
      return null;
    }
    ApprovalRecord r = byId.get(id);
    return r != null && (r.state() == ApprovalRecord.State.PENDING
        || r.state() == ApprovalRecord.State.APPROVED) ? r : null;
  }
}
