package dev.saferun.audit;

import dev.saferun.Clock;
import dev.saferun.internal.audit.AsyncWriter;
import dev.saferun.internal.audit.ChainHash;
import dev.saferun.internal.audit.LogWriter;
import dev.saferun.internal.audit.SinkWriter;
import dev.saferun.internal.audit.SyncWriter;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The tamper-evident audit log: every {@link AuditEvent} as one line of JSON in a file, each line
 * carrying the hash of the line before it, so that an edited, deleted, reordered or truncated
 * record is detected by {@link AuditLog#verify} ({@code saferun audit verify}).
 *
 * <pre>{@code
 * FileAuditSink audit = FileAuditSink.builder(Path.of("/var/log/saferun/audit.jsonl"))
 *     .hmacKey(AuditLog.readKey(Path.of("/etc/saferun/audit.key")))   // optional
 *     .maxFileBytes(256L << 20)
 *     .rotateEvery(Duration.ofDays(1))
 *     .build();
 * SafeRun safeRun = SafeRun.builder().policies(policies)
 *     .auditSink(AuditSink.composite(audit, AuditSink.slf4j()))
 *     .build();
 * // ... on shutdown:
 * audit.close();   // drains the queue and writes an end record
 * }</pre>
 *
 * <p><b>Chain.</b> Each record's {@code hash} is the sha-256 of the line's bytes up to and
 * including its {@code prev} (the previous record's hash); with {@link Builder#hmacKey} it is an
 * HMAC-SHA256 under that key, so that someone who can write the files but does not hold the key
 * cannot recompute the chain after an edit. Without a key the chain detects edits by anyone who
 * does not recompute every later hash; publish {@link #head()} elsewhere from time to time (an
 * anchor) to detect that too.
 *
 * <p><b>Files.</b> The active file is the path given ({@code audit.jsonl}). It is rotated to
 * {@code audit-000001.jsonl}, {@code audit-000002.jsonl}, … when it would exceed
 * {@link Builder#maxFileBytes} or at each multiple of {@link Builder#rotateEvery} (UTC, measured on
 * the injected clock), and every time a sink is opened on an existing log. Every file starts with
 * a header record whose {@code prev} is the hash of the previous file's last record, so the chain
 * runs through all files, and a finished file ends with an end record. A torn last line left by a
 * crash is kept as is and declared in the next file's header. An OS lock file
 * ({@code .audit.jsonl.lock}) keeps a second writer away.
 *
 * <p><b>Queue, backpressure and failure policy.</b> {@link #record} does not touch the disk: it
 * puts the event on a bounded queue ({@link Builder#queueCapacity}, default 65,536 events) that
 * one writer thread drains in batches, so a slow disk delays the decision path only once the
 * queue is full. Then {@code record} waits for room, up to {@link Builder#queueFullWait} (default
 * one second, measured on the injected clock): a producer that outruns the disk is slowed to the
 * disk's speed rather than refused. Only when that wait runs out, or at once when the writer has
 * failed or the sink is closed, does the {@linkplain Builder#failurePolicy failure policy}
 * decide: {@code FAIL_CLOSED} (default) throws {@link AuditException}, so that SafeRun (with its
 * default {@code auditFailure(FAIL_CLOSED)}) denies the call; {@code LOG_AND_CONTINUE} drops the
 * event, counts it ({@link #dropped()}) and logs it at ERROR. Either way a gap record in the log
 * says how many events were lost or refused: never a silent drop. A write error (disk full) is
 * permanent for this sink: every later event is refused or dropped the same way until the sink is
 * recreated. {@link Builder#synchronous()} writes on the calling thread instead (batch jobs,
 * tests). Set SafeRun's {@code auditFailure} to the same policy as the sink's.
 *
 * <p><b>Durability.</b> See {@link FsyncPolicy}; default {@link FsyncPolicy#EVERY_BATCH}. Events
 * still queued when the JVM dies are lost; {@link #close()} (and {@link #flush()}) waits for the
 * queue to drain. Close the sink on shutdown.
 *
 * <p>Thread-safe: {@link #record} may be called from any number of threads.
 */
public final class FileAuditSink implements AuditSink, Flushable, Closeable {
  private final SinkWriter writer;
  private final Path file;

  FileAuditSink(SinkWriter writer, Path file) {
    this.writer = writer;
    this.file = file;
  }

  /** Starts configuring a sink whose active file is {@code file} (must end with {@code .jsonl}). */
  public static Builder builder(Path file) {
    return new Builder(file);
  }

  /**
   * Queues the event (or writes it, when synchronous). When the queue is full, waits for room up
   * to {@link Builder#queueFullWait}.
   *
   * @throws AuditException under {@code FAIL_CLOSED} when the queue stayed full for the whole
   *     wait, the sink is closed or its writer failed
   */
  @Override
  public void record(AuditEvent event) {
    Objects.requireNonNull(event, "event");
    writer.record(event);
  }

  /**
   * Waits until every event recorded before this call is written, then forces the file unless
   * the fsync policy is {@link FsyncPolicy#NEVER}.
   *
   * @throws IOException if the writer failed
   */
  @Override
  public void flush() throws IOException {
    writer.flush();
  }

  /**
   * Drains the queue, writes an end record, forces (unless {@code NEVER}) and releases the file.
   * Later {@link #record} calls fail per the failure policy. Idempotent.
   *
   * @throws IOException if the writer failed at any point (events were lost)
   */
  @Override
  public void close() throws IOException {
    writer.close();
  }

  /** Events dropped under {@code LOG_AND_CONTINUE} since the sink was opened. */
  public long dropped() {
    return writer.dropped();
  }

  /** Events refused under {@code FAIL_CLOSED} (their calls were denied) since it was opened. */
  public long rejected() {
    return writer.rejected();
  }

  /**
   * The hash of the last record written (not merely queued). Publish it somewhere the log's
   * writers cannot change (a ticket, a WORM bucket, another system's log) and pass it to
   * {@code saferun audit verify --anchor} later: the log must still contain that record.
   */
  public String head() {
    return writer.head();
  }

  /** The active file. */
  public Path file() {
    return file;
  }

  @Override
  public String toString() {
    return "FileAuditSink[" + file + "]";
  }

  /**
   * Configures a {@link FileAuditSink}; options are checked when set and the file is opened by
   * {@link #build()}. Not thread-safe; build once and share the sink.
   */
  public static final class Builder {
    private final Path file;
    private byte[] key;
    private long maxFileBytes = 128L << 20;
    private Duration rotateEvery;
    private FsyncPolicy fsync = FsyncPolicy.EVERY_BATCH;
    private int queueCapacity = 65_536;
    private int maxBatch = 4096;
    private Duration queueFullWait = Duration.ofSeconds(1);
    private boolean synchronous;
    private FailurePolicy failurePolicy = FailurePolicy.FAIL_CLOSED;
    private Clock clock = Clock.system();
    private boolean newChain;

    private Builder(Path file) {
      Objects.requireNonNull(file, "file");
      Path name = file.getFileName();
      if (name == null || !name.toString().endsWith(".jsonl")
          || name.toString().length() <= ".jsonl".length()) {
        throw new IllegalArgumentException("audit file name must end with .jsonl, got '" + file
            + "'");
      }
      this.file = file;
    }

    /**
     * Chains with HMAC-SHA256 under this key (at least 16 bytes; e.g. {@link
     * AuditLog#readKey} of a file made by {@code openssl rand -hex 32}). Verifying then needs
     * the key. Default: unkeyed sha-256.
     */
    public Builder hmacKey(byte[] key) {
      Objects.requireNonNull(key, "key");
      if (key.length < ChainHash.MIN_KEY_BYTES) {
        throw new IllegalArgumentException("audit HMAC key must have at least "
            + ChainHash.MIN_KEY_BYTES + " bytes, got " + key.length);
      }
      this.key = key.clone();
      return this;
    }

    /**
     * Rotates the active file before it would grow past this size; 0 disables size rotation.
     * A single record larger than this still gets written. Default 128 MiB.
     */
    public Builder maxFileBytes(long bytes) {
      if (bytes < 0 || (bytes > 0 && bytes < 4096)) {
        throw new IllegalArgumentException("maxFileBytes must be 0 (no size rotation) or at least"
            + " 4096, got " + bytes);
      }
      this.maxFileBytes = bytes;
      return this;
    }

    /**
     * Rotates the active file at each multiple of this period since the epoch (so
     * {@code Duration.ofDays(1)} rotates at midnight UTC), on the first record written after it;
     * {@code null} disables time rotation (the default). At least one second.
     */
    public Builder rotateEvery(Duration period) {
      if (period != null && period.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("rotateEvery must be at least 1s, got " + period);
      }
      this.rotateEvery = period;
      return this;
    }

    /** When to force records to the device. Default {@link FsyncPolicy#EVERY_BATCH}. */
    public Builder fsync(FsyncPolicy policy) {
      this.fsync = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * How many events may wait for the writer thread; beyond that {@link FileAuditSink#record} waits for room
     * ({@link #queueFullWait}), then the failure policy applies. Default 65,536. A full queue keeps
     * that many events in the heap.
     */
    public Builder queueCapacity(int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("queueCapacity must be >= 1, got " + capacity);
      }
      this.queueCapacity = capacity;
      this.synchronous = false;
      return this;
    }

    /**
     * How long {@link FileAuditSink#record} waits for room when the queue is full, measured on the
     * {@linkplain #clock injected clock}: a caller that outruns the disk is slowed to the disk's
     * speed rather than refused. When the wait runs out, the failure policy applies (under
     * {@code FAIL_CLOSED} the call is denied). A failed writer or {@link FileAuditSink#close()}
     * ends the wait at once. {@link Duration#ZERO} refuses at once. Default one second; at most
     * one hour. No effect with {@link #synchronous()}.
     */
    public Builder queueFullWait(Duration wait) {
      Objects.requireNonNull(wait, "wait");
      if (wait.isNegative() || wait.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("queueFullWait must be between 0 and 1h, got " + wait);
      }
      this.queueFullWait = wait;
      return this;
    }

    /**
     * Writes each event on the calling thread, before {@link #record} returns: no queue, no
     * thread, and a slow disk slows every call. For batch jobs and tests (e.g.
     * {@code saferun test --audit}), not for serving.
     */
    public Builder synchronous() {
      this.synchronous = true;
      return this;
    }

    /**
     * What a queue still full after {@link #queueFullWait}, a failed writer or a closed sink does.
     * Default {@link FailurePolicy#FAIL_CLOSED}.
     */
    public Builder failurePolicy(FailurePolicy policy) {
      this.failurePolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * The clock for file headers, gap and end records, time rotation and the
     * {@linkplain #queueFullWait queue-full wait}. Default system.
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Starts a new chain, replacing the active file if it exists, instead of continuing the
     * existing log (for one-off logs such as {@code saferun test --audit}). {@link #build()}
     * fails if rotated files of an earlier chain lie next to it.
     */
    public Builder newChain() {
      this.newChain = true;
      return this;
    }

    /**
     * Opens the log (continuing its chain, unless {@link #newChain()}) and starts the writer.
     *
     * @throws IOException if the file cannot be created, is locked by another sink, or the
     *     existing chain cannot be continued (malformed last record, another key)
     */
    public FileAuditSink build() throws IOException {
      ChainHash hash = key == null ? ChainHash.sha256() : ChainHash.hmac(key);
      LogWriter log = LogWriter.open(new LogWriter.Options(file, hash, fsync, maxFileBytes,
          rotateEvery == null ? 0 : rotateEvery.toMillis(), clock, newChain));
      String name = file.getFileName().toString();
      SinkWriter writer = synchronous
          ? new SyncWriter(log, failurePolicy, clock, name)
          : new AsyncWriter(log, queueCapacity, maxBatch, waitMillis(queueFullWait),
              failurePolicy, clock, name);
      return new FileAuditSink(writer, file);
    }

    /** Whole milliseconds, rounded up so that a wait shorter than 1 ms still waits. */
    private static long waitMillis(Duration wait) {
      long ms = wait.toMillis();
      return ms == 0 && !wait.isZero() ? 1 : ms;
    }
  }
}
