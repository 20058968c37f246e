package dev.saferun.audit;

/**
 * When {@link FileAuditSink} forces written records to the storage device
 * ({@code FileChannel.force}). Writing hands bytes to the operating system, which survives a crash
 * of the JVM; forcing is what survives a crash or power loss of the machine. Whatever the policy,
 * events still waiting in the sink's queue are lost if the JVM dies (the queue is bounded, see
 * {@link FileAuditSink.Builder#queueCapacity}).
 */
public enum FsyncPolicy {
  /**
   * Never force; the operating system writes back when it chooses (typically within 30 s on
   * Linux). Fastest. A machine crash can lose the records of the last seconds and leave a torn
   * last line, which {@code saferun audit verify} reports.
   */
  NEVER,
  /**
   * Force when a file is finished (rotation, {@link FileAuditSink#close()}) and on
   * {@link FileAuditSink#flush()}. Rotated files are durable; the active file can lose its
   * latest records in a machine crash. Costs one fsync per rotation.
   */
  ON_ROTATE,
  /**
   * Force after every batch the writer thread takes from the queue (group commit: under load one
   * fsync covers many events), and as {@code ON_ROTATE}. A machine crash loses at most the batch
   * being written. The default: the cost is one fsync per batch, off the decision path, and
   * throughput grows with load because batches grow. With {@link
   * FileAuditSink.Builder#synchronous()} this is one fsync per event on the calling thread.
   */
  EVERY_BATCH
}
