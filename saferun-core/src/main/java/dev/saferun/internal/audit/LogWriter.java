package dev.saferun.internal.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.saferun.Clock;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.FsyncPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends hash-chained records to the active file {@code <stem>.jsonl}, rotating it to
 * {@code <stem>-<n>.jsonl} by size or time, and continues an existing chain when opened (the
 * previous active file is rotated first; a torn last line left by a crash is declared in the new
 * file's header). Holds an OS file lock so that two writers never share a chain. Thread-safe
 * (every method is synchronized), but meant for one writing thread.
 */
public final class LogWriter implements SinkWriter.Target {
  private static final Logger LOG = LoggerFactory.getLogger("dev.saferun.audit");
  private static final byte[] START = "{\"n\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PREV_MARK = ",\"prev\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HASH_MARK = ",\"hash\":\"".getBytes(StandardCharsets.US_ASCII);
  /** Room kept in a file for its end record when rotating by size. */
  private static final int END_RESERVE = 256;
  private static final int DRAIN_AT = 1 << 20;

  /**
   * How to write.
   *
   * @param file the active file
   * @param hash the chain hash
   * @param fsync when to force
   * @param maxBytes rotate before a file would exceed this many bytes; 0 = never
   * @param rotateMillis rotate at multiples of this period (UTC, epoch-aligned); 0 = never
   * @param clock time for headers, gap/end records and time rotation
   * @param newChain start a new chain, replacing the active file, instead of continuing
   */
  public record Options(Path file, ChainHash hash, FsyncPolicy fsync, long maxBytes,
      long rotateMillis, Clock clock, boolean newChain) {}

  private final Path file;
  private final Path dir;
  private final ChainHash hash;
  private final FsyncPolicy fsync;
  private final long maxBytes;
  private final long rotateMillis;
  private final Clock clock;

  private FileChannel lockChannel;
  private FileLock lock;
  private FileChannel channel;
  private long fileIndex;
  private long fileBytes;
  private long fileRecords;
  private long rotateAt = Long.MAX_VALUE;
  private long n;
  private final byte[] prev = Records.GENESIS.getBytes(StandardCharsets.US_ASCII);
  private boolean written;
  private ByteBuffer out = ByteBuffer.allocate(64 * 1024);
  private final Utf8Out body = new Utf8Out();
  private final StringBuilder aux = new StringBuilder(256);
  private final byte[] hex = new byte[64];
  private final CanonicalText.Clock times = new CanonicalText.Clock();

  private LogWriter(Options o) {
    this.file = o.file().toAbsolutePath();
    this.dir = file.getParent();
    this.hash = o.hash();
    this.fsync = o.fsync();
    this.maxBytes = o.maxBytes();
    this.rotateMillis = o.rotateMillis();
    this.clock = o.clock();
  }

  /** Opens the log: locks it, continues (or replaces) the chain and writes a new file header. */
  public static LogWriter open(Options options) throws IOException {
    LogWriter w = new LogWriter(options);
    Files.createDirectories(w.dir);
    w.lock();
    try {
      w.start(options.newChain());
    } catch (IOException | RuntimeException e) {
      w.unlock();
      throw e;
    }
    return w;
  }

  private void lock() throws IOException {
    Path lockFile = dir.resolve("." + file.getFileName() + ".lock");
    lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      lockChannel.close();
      throw new IOException(file + " is already written by another audit sink (lock file "
          + lockFile + "); two writers would break the chain");
    }
  }

  private void unlock() {
    try {
      if (lock != null) {
        lock.release();
      }
      lockChannel.close();
    } catch (IOException e) {
      LOG.warn("Could not release the audit lock of {}", file, e);
    }
  }

  private void start(boolean newChain) throws IOException {
    List<Long> rotated = LogFiles.rotatedIndexes(file);
    if (newChain) {
      if (!rotated.isEmpty()) {
        throw new IOException(file + ": rotated files of an earlier chain exist ("
            + LogFiles.rotated(file, rotated.get(0)).getFileName() + ", ...); move them away or"
            + " continue that chain");
      }
      Files.deleteIfExists(file);
      openFile(1, "start", 0, 0);
      return;
    }
    long maxIndex = rotated.isEmpty() ? 0 : rotated.get(rotated.size() - 1);
    Path last = null;
    Tail tail = null;
    long lastIndex = 0;
    if (Files.exists(file)) {
      tail = tail(file);
      if (tail.lastLine == null) {
        // Nothing but (part of) a header: a crash while the file was being created.
        LOG.warn("{} holds no complete record ({} bytes, a crash while creating it); removed",
            file, tail.tornBytes);
        Files.delete(file);
        tail = null;
      } else {
        JsonNode h = header(file);
        lastIndex = h != null && h.path("file").canConvertToLong() ? h.get("file").asLong()
            : maxIndex + 1;
        Path target = LogFiles.rotated(file, lastIndex);
        if (Files.exists(target)) {
          throw new IOException("cannot rotate " + file + " to " + target + ": it exists");
        }
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        maxIndex = Math.max(maxIndex, lastIndex);
        last = target;
      }
    }
    if (last == null && maxIndex > 0) {
      lastIndex = maxIndex;
      last = LogFiles.rotated(file, maxIndex);
      tail = tail(last);
      if (tail.lastLine == null) {
        throw new IOException(last + " holds no complete record; cannot continue its chain");
      }
    }
    if (last == null) {
      openFile(1, "start", 0, 0);
      return;
    }
    byte[] l = tail.lastLine;
    if (!Records.wellFormed(l, 0, l.length)) {
      throw new IOException(last + ": its last complete line is not a well-formed audit record;"
          + " run 'saferun audit verify' and move the log away to start a new chain");
    }
    JsonNode h = header(last);
    if (h != null) {
      String alg = h.path("alg").asText();
      String key = h.path("key").asText(null);
      if (!alg.equals(hash.alg()) || !Objects.equals(key, hash.keyId())) {
        throw new IOException(last + ": the existing chain uses " + describe(alg, key)
            + " but this sink is configured with " + describe(hash.alg(), hash.keyId())
            + "; use the same key, or write to a new file");
      }
    }
    n = Records.number(l, 0, l.length);
    System.arraycopy(l, Records.hashOffset(0, l.length), prev, 0, 64);
    written = true;
    if (tail.tornBytes > 0) {
      LOG.warn("{} ends with an incomplete record ({} bytes, a crash during a write); the chain"
          + " continues from its last complete record (n={})", last, tail.tornBytes, n);
    }
    openFile(maxIndex + 1, "start", tail.tornBytes > 0 ? lastIndex : 0, tail.tornBytes);
  }

  private static String describe(String alg, String key) {
    return key == null ? alg : alg + " (key id " + key + ")";
  }

  private void openFile(long index, String reason, long tornFile, long tornBytes)
      throws IOException {
    channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    fileIndex = index;
    fileBytes = 0;
    fileRecords = 0;
    long now = clock.wallMillis();
    rotateAt = rotateMillis > 0 ? Math.floorDiv(now, rotateMillis) * rotateMillis + rotateMillis
        : Long.MAX_VALUE;
    aux.setLength(0);
    Records.header(aux, index, Instant.ofEpochMilli(now), hash, reason, tornFile, tornBytes);
    write(bytes(aux));
    drain();
    if (fsync != FsyncPolicy.NEVER) {
      channel.force(true);
      forceDirectory();
    }
  }

  @Override
  public synchronized void append(List<AuditEvent> events) throws IOException {
    ensureOpen();
    for (AuditEvent e : events) {
      body.reset();
      Records.event(body, e, times);
      maybeRotate(lineLength(body.length()));
      write(body.buffer(), body.length());
    }
    drain();
  }

  @Override
  public synchronized void gap(long dropped, long rejected) throws IOException {
    ensureOpen();
    aux.setLength(0);
    Records.gap(aux, clock.instant(), dropped, rejected);
    write(bytes(aux));
    drain();
  }

  @Override
  public synchronized void batchDone() throws IOException {
    if (channel != null && fsync == FsyncPolicy.EVERY_BATCH) {
      channel.force(false);
    }
  }

  @Override
  public synchronized void sync() throws IOException {
    if (channel != null) {
      drain();
      if (fsync != FsyncPolicy.NEVER) {
        channel.force(false);
      }
    }
  }

  @Override
  public synchronized String head() {
    return written ? new String(prev, StandardCharsets.US_ASCII) : null;
  }

  @Override
  public synchronized void close() throws IOException {
    if (channel == null) {
      return;
    }
    try {
      aux.setLength(0);
      Records.end(aux, clock.instant(), "close");
      write(bytes(aux));
      drain();
      if (fsync != FsyncPolicy.NEVER) {
        channel.force(true);
      }
    } finally {
      channel.close();
      channel = null;
      unlock();
    }
  }

  private void ensureOpen() throws IOException {
    if (channel == null) {
      throw new IOException("audit log " + file + " is closed");
    }
  }

  private void maybeRotate(int length) throws IOException {
    if (fileRecords <= 1) {
      return; // never rotate a file holding only its header
    }
    String reason = null;
    if (maxBytes > 0 && fileBytes + length + END_RESERVE > maxBytes) {
      reason = "size";
    } else if (rotateAt != Long.MAX_VALUE && clock.wallMillis() >= rotateAt) {
      reason = "time";
    }
    if (reason != null) {
      rotate(reason);
    }
  }

  private void rotate(String reason) throws IOException {
    aux.setLength(0);
    Records.end(aux, clock.instant(), "rotate");
    write(bytes(aux));
    drain();
    if (fsync != FsyncPolicy.NEVER) {
      channel.force(true);
    }
    channel.close();
    channel = null;
    Path target = LogFiles.rotated(file, fileIndex);
    if (Files.exists(target)) {
      throw new IOException("cannot rotate " + file + " to " + target + ": it exists");
    }
    Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
    openFile(fileIndex + 1, reason, 0, 0);
  }

  private static byte[] bytes(StringBuilder sb) {
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The length of the next record's line, newline included, for a body of this length. */
  private int lineLength(int bodyLength) {
    return START.length + 20 + 1 + bodyLength + Records.PREV_TAIL + Records.HASH_TAIL + 1;
  }

  /** Appends one record with this body to the buffer: number, body, prev, hash. */
  private void write(byte[] recordBody) throws IOException {
    write(recordBody, recordBody.length);
  }

  /** Appends one record with the first {@code length} bytes of {@code recordBody} as its body. */
  private void write(byte[] recordBody, int length) throws IOException {
    long next = n + 1;
    int digits = digits(next);
    int hashed = START.length + digits + 1 + length + Records.PREV_TAIL;
    int total = hashed + Records.HASH_TAIL + 1;
    if (out.remaining() < total) {
      drain();
      if (out.capacity() < total) {
        out = ByteBuffer.allocate(Math.max(total, out.capacity() * 2));
      }
    }
    int start = out.position();
    out.put(START);
    putDigits(next, digits);
    out.put((byte) ',').put(recordBody, 0, length).put(PREV_MARK).put(prev)
        .put((byte) '"');
    hash.hashHex(out.array(), start, hashed, hex, 0);
    out.put(HASH_MARK).put(hex).put((byte) '"').put((byte) '}').put((byte) '\n');
    System.arraycopy(hex, 0, prev, 0, 64);
    written = true;
    n = next;
    fileBytes += total;
    fileRecords++;
    if (out.position() >= DRAIN_AT) {
      drain();
    }
  }

  /** Decimal digits of a non-negative number. */
  private static int digits(long v) {
    int d = 1;
    for (long p = 10; d < 19 && v >= p; p *= 10) {
      d++;
    }
    return d;
  }

  /** Writes a non-negative number's {@code digits} decimal digits (as Long.toString does). */
  private void putDigits(long v, int digits) {
    int at = out.position();
    byte[] a = out.array();
    for (int k = at + digits - 1; k >= at; k--) {
      a[k] = (byte) ('0' + (v % 10));
      v /= 10;
    }
    out.position(at + digits);
  }

  private void drain() throws IOException {
    out.flip();
    while (out.hasRemaining()) {
      channel.write(out);
    }
    out.clear();
  }

  private void forceDirectory() {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | RuntimeException e) {
      // Not every platform can force a directory; the rename is still atomic.
    }
  }

  /** The last complete line of a file, and the length of what follows it (a torn write). */
  record Tail(byte[] lastLine, long tornBytes) {}

  static Tail tail(Path f) throws IOException {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      long size = ch.size();
      long nl = lastNewline(ch, size);
      if (nl < 0) {
        return new Tail(null, size);
      }
      long from = lastNewline(ch, nl) + 1;
      long len = nl - from;
      if (len > Integer.MAX_VALUE - 16) {
        throw new IOException(f + ": last record is too large (" + len + " bytes)");
      }
      ByteBuffer b = ByteBuffer.allocate((int) len);
      while (b.hasRemaining()) {
        if (ch.read(b, from + b.position()) < 0) {
          throw new IOException(f + " changed while it was read");
        }
      }
      return new Tail(b.array(), size - nl - 1);
    }
  }

  private static long lastNewline(FileChannel ch, long end) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
    long pos = end;
    while (pos > 0) {
      int len = (int) Math.min(b.capacity(), pos);
      long at = pos - len;
      b.clear().limit(len);
      while (b.hasRemaining()) {
        if (ch.read(b, at + b.position()) < 0) {
          throw new IOException("file changed while it was read");
        }
      }
      for (int i = len - 1; i >= 0; i--) {
        if (b.get(i) == '\n') {
          return at + i;
        }
      }
      pos = at;
    }
    return -1;
  }

  /** The header object of a file's first line, or {@code null} when it has none. */
  static JsonNode header(Path f) throws IOException {
    try (LineReader r = new LineReader(f)) {
      if (!r.next() || !r.complete()) {
        return null;
      }
      try {
        Records.Parsed p = Records.parse(r.buffer(), r.start(), r.length());
        return p.kind() == Records.Kind.HEADER ? p.header() : null;
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
  }
}
