package dev.saferun.spi;

import dev.saferun.approval.ApprovalRecord;
import java.util.List;

/**
 * Where approval requests live: in memory for one JVM, or shared (Redis) so a request created on
 * one replica can be approved from another.
 *
 * <p><b>Contract.</b> Thread-safe. {@link #compareAndSet} is atomic: of several concurrent
 * transitions out of one state, exactly one succeeds. A store that cannot answer throws; SafeRun
 * then fails closed (the call is not run, the approval operation is refused).
 */
public interface ApprovalStore {

  /** Stores a new record. Ids are unique (128 random bits). */
  void create(ApprovalRecord record);

  /** The record, or {@code null} when unknown. */
  ApprovalRecord get(String id);

  /** Every record still {@link ApprovalRecord.State#PENDING}, oldest first. */
  List<ApprovalRecord> pending();

  /**
   * Replaces the record with {@code next} if its current state is {@code expected}.
   *
   * @return whether it was replaced
   */
  boolean compareAndSet(String id, ApprovalRecord.State expected, ApprovalRecord next);

  /**
   * The most recent record for the same call (same tool, canonical arguments and context) that
   * is pending or approved-not-used, or {@code null}. Defer mode uses it so a retried call waits
   * on, or uses, the existing request instead of creating another.
   */
  ApprovalRecord findOpen(String callKey);

  /**
   * Registers a callback run with a record's id whenever it leaves PENDING in this store,
   * including transitions made by other processes sharing it (for example through Redis
   * pub/sub), so a call waiting in wait mode on one replica wakes when another replica decides.
   * The callback must be cheap and must not throw. The default does nothing: a store used by a
   * single SafeRun needs no notification, since SafeRun wakes its own waiters.
   */
  default void subscribe(java.util.function.Consumer<String> decided) {
    // single-process stores: SafeRun wakes its waiters itself
  }

  /** Records kept in this JVM. Thread-safe. */
  static ApprovalStore inMemory() {
    return new dev.saferun.internal.approval.InMemoryApprovalStore();
  }
}
