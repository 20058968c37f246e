package dev.saferun.audit;

import dev.saferun.internal.audit.LogFiles;
import dev.saferun.internal.audit.LogReader;
import dev.saferun.internal.audit.Verifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Reads and verifies audit logs written by {@link FileAuditSink}: the {@code saferun audit},
 * {@code runs} and {@code replay} commands are built on it.
 *
 * <pre>{@code
 * AuditLog.Verification v = AuditLog.verify(List.of(Path.of("logs")));
 * if (!v.intact()) {
 *   System.err.println(v.problem());   // logs/audit.jsonl:1042: deleted: 3 records missing ...
 * }
 * try (Stream<AuditLog.Entry> entries = AuditLog.read(List.of(Path.of("logs")))) {
 *   entries.filter(e -> e.event() != null).forEach(e -> System.out.println(e.event().tool()));
 * }
 * }</pre>
 *
 * <p><b>Which files, in which order.</b> Paths are taken in the order given; a directory stands
 * for the audit files in it, each log's rotated files by number and then its active file
 * ({@code audit-000001.jsonl, audit-000002.jsonl, audit.jsonl}), which is also the order a shell
 * glob {@code audit*.jsonl} produces. The chain continues from one file to the next.
 *
 * <p>Stateless and thread-safe; each call opens its own files.
 */
public final class AuditLog {
  private AuditLog() {}

  /**
   * The files a list of paths stands for, in chain order (see the class description).
   *
   * @throws java.nio.file.NoSuchFileException if a path does not exist
   * @throws IOException if a directory cannot be listed
   */
  public static List<Path> files(List<Path> paths) throws IOException {
    return LogFiles.expand(paths);
  }

  /** Verifies the chain of an unkeyed log; see {@link #verify(List, VerifyOptions)}. */
  public static Verification verify(List<Path> paths) throws IOException {
    return verify(paths, VerifyOptions.DEFAULT);
  }

  /**
   * Verifies a log's chain from its first record to its last and reports the first bad record:
   * its file, line and what happened to it ({@link ProblemKind}). Reads raw bytes and parses no
   * JSON except file headers, so a million records verify in about a second.
   *
   * @throws AuditException if the log is keyed (HMAC) and no key was given, there are no files,
   *     or the first file is not an audit log at all
   * @throws IOException if a file cannot be read
   */
  public static Verification verify(List<Path> paths, VerifyOptions options) throws IOException {
    Objects.requireNonNull(options, "options");
    return Verifier.verify(files(paths), options);
  }

  /**
   * Streams a log's records in order, parsed back into {@link AuditEvent}s. Does not verify the
   * chain (use {@link #verify}); a torn last line is returned as a {@link EntryKind#TORN} entry
   * and a gap record (events dropped or refused under load) as a {@link EntryKind#GAP} entry, so
   * that nothing is skipped silently. Close the stream to close the files.
   *
   * @throws AuditException if the paths hold no audit log file
   * @throws IOException if a file cannot be opened; read errors later surface as
   *     {@link java.io.UncheckedIOException}, unparseable lines as {@link AuditException} naming
   *     the file and line
   */
  public static Stream<Entry> read(List<Path> paths) throws IOException {
    List<Path> files = files(paths);
    if (files.isEmpty()) {
      throw new AuditException("no audit log files (*.jsonl) in " + paths);
    }
    return LogReader.entries(files);
  }

  /**
   * Reads an HMAC key from a file: its content with surrounding whitespace removed, as UTF-8
   * bytes (e.g. the output of {@code openssl rand -hex 32}). The same rule for the sink and the
   * CLI, so a key file works for both.
   *
   * @throws IOException if the file cannot be read
   */
  public static byte[] readKey(Path keyFile) throws IOException {
    return Files.readString(keyFile, StandardCharsets.UTF_8).strip()
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * How to verify.
   *
   * <p>Immutable and thread-safe (the key array is copied).
   *
   * @param key the HMAC key of a keyed log, or {@code null} for an unkeyed (sha-256) log. When a
   *     key is given, every file must be keyed with it: an unkeyed file then counts as tampering
   * @param anchor a record hash published elsewhere earlier (see {@link FileAuditSink#head()}),
   *     or {@code null}; the log must still contain that record, which detects records removed
   *     from the end and a chain recomputed from some point on
   * @param partial accept a log whose first record continues an earlier chain (older files
   *     removed by retention)
   */
  public record VerifyOptions(byte[] key, String anchor, boolean partial) {
    /** No key, no anchor, the log must start at its genesis record. */
    public static final VerifyOptions DEFAULT = new VerifyOptions(null, null, false);

    public VerifyOptions {
      key = key == null ? null : key.clone();
    }

    @Override
    public byte[] key() {
      return key == null ? null : key.clone();
    }

    /** These options with an HMAC key. */
    public VerifyOptions withKey(byte[] hmacKey) {
      return new VerifyOptions(hmacKey, anchor, partial);
    }

    /** These options with an anchor hash. */
    public VerifyOptions withAnchor(String hash) {
      return new VerifyOptions(key, hash, partial);
    }

    /** These options accepting a log that starts mid-chain. */
    public VerifyOptions withPartial(boolean accept) {
      return new VerifyOptions(key, anchor, accept);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof VerifyOptions && Arrays.equals(((VerifyOptions) o).key, key)
          && Objects.equals(((VerifyOptions) o).anchor, anchor)
          && ((VerifyOptions) o).partial == partial;
    }

    @Override
    public int hashCode() {
      return Objects.hash(Arrays.hashCode(key), anchor, partial);
    }

    @Override
    public String toString() {
      return "VerifyOptions[key=" + (key == null ? "none" : "***") + ", anchor=" + anchor
          + ", partial=" + partial + "]";
    }
  }

  /**
   * The result of {@link #verify}.
   *
   * <p>Immutable and thread-safe.
   *
   * @param intact whether the whole chain verified
   * @param files the files verified, in order
   * @param records complete records verified (before the problem, if any)
   * @param events of which event records
   * @param head the hash of the last verified record (to publish as an anchor), or {@code null}
   * @param problem the first bad record, or {@code null} when intact
   * @param notes facts worth knowing that are not tampering: gaps (events dropped or refused
   *     under load), a torn record left by a crash and recovered from, a log without an end record
   */
  public record Verification(boolean intact, List<Path> files, long records, long events,
      String head, Problem problem, List<String> notes) {
    public Verification {
      files = List.copyOf(files);
      notes = List.copyOf(notes);
    }
  }

  /**
   * The first bad record of a log.
   *
   * <p>Immutable and thread-safe.
   *
   * @param file the file
   * @param line its line number, from 1
   * @param kind what happened
   * @param message the explanation, e.g. {@code 3 records missing before this line (n=40..42)}
   */
  public record Problem(Path file, long line, ProblemKind kind, String message) {
    /** {@code <file>:<line>: <kind>: <message>}. */
    @Override
    public String toString() {
      return file + ":" + line + ": " + kind.label() + ": " + message;
    }
  }

  /** What happened to the first bad record. */
  public enum ProblemKind {
    /** The record's bytes do not match its hash (or it was replaced and re-hashed). */
    EDITED,
    /** Records are missing before this one. */
    DELETED,
    /** The record is out of order (moved, swapped or duplicated). */
    REORDERED,
    /** The file ends in the middle of a record (a crash during a write, or a cut). */
    TRUNCATED,
    /** The file is not keyed with the key given (or not keyed at all). */
    KEY_MISMATCH,
    /** The anchor record is not in the log. */
    ANCHOR_MISSING;

    /** Lowercase with spaces, as printed. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }
  }

  /**
   * One record of a log, as {@link #read} returns it.
   *
   * <p>Immutable and thread-safe.
   *
   * @param file the file
   * @param line its line number, from 1
   * @param n the record number in the chain ({@code -1} for a torn line)
   * @param kind what the record holds
   * @param event the event, for {@link EntryKind#EVENT}; else {@code null}
   * @param dropped for {@link EntryKind#GAP}: events lost (the call proceeded,
   *     {@code LOG_AND_CONTINUE}); for {@link EntryKind#TORN}: the torn line's length in bytes
   * @param rejected for {@link EntryKind#GAP}: events refused (the calls were denied,
   *     {@code FAIL_CLOSED})
   */
  public record Entry(Path file, long line, long n, EntryKind kind, AuditEvent event,
      long dropped, long rejected) {}

  /** What an {@link Entry} holds. */
  public enum EntryKind {
    /** The first record of every file: format, file number, chain algorithm. */
    HEADER,
    /** An {@link AuditEvent}. */
    EVENT,
    /** Events that could not be queued since the previous gap record. */
    GAP,
    /** The file was finished (rotation or close). */
    END,
    /** An incomplete last line (a crash during a write). */
    TORN
  }
}
