package dev.saferun.internal.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.saferun.audit.AuditException;
import dev.saferun.audit.AuditLog.Problem;
import dev.saferun.audit.AuditLog.ProblemKind;
import dev.saferun.audit.AuditLog.Verification;
import dev.saferun.audit.AuditLog.VerifyOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Verifies a chain over raw bytes: for each line, its layout, its own hash, its link to the
 * previous record and its number. The first failure is classified (edited, deleted, reordered,
 * truncated) and located; only file headers and gap records are parsed as JSON. Not thread-safe
 * (one instance per verification).
 */
public final class Verifier {
  private final List<Path> files;
  private final byte[] key;
  private final byte[] anchor;
  private final boolean partial;
  private final ChainHash sha = ChainHash.sha256();
  private final ChainHash hmac;

  private final ChainHash hasher;
  private byte[] prevHash;
  private long expectedN;
  private Path prevFile;
  private long prevLine;
  private long records;
  private long events;
  private boolean anchorFound;
  private boolean lastWasEnd;
  private final List<String> notes = new ArrayList<>();
  private final byte[] computed = new byte[64];

  private Path tornFile;
  private long tornLine;
  private long tornBytes;
  private long tornFileIndex = -1;

  private Verifier(List<Path> files, VerifyOptions options) {
    this.files = files;
    this.key = options.key();
    this.anchor = options.anchor() == null ? null
        : options.anchor().strip().getBytes(StandardCharsets.US_ASCII);
    this.partial = options.partial();
    this.hmac = key == null ? null : ChainHash.hmac(key);
    this.hasher = hmac != null ? hmac : sha;
    if (!partial) {
      prevHash = Records.GENESIS.getBytes(StandardCharsets.US_ASCII);
      expectedN = 1;
    }
  }

  /** Verifies the files, in this order, as one chain. */
  public static Verification verify(List<Path> files, VerifyOptions options) throws IOException {
    return new Verifier(files, options).run();
  }

  private Verification run() throws IOException {
    if (files.isEmpty()) {
      throw new AuditException("no audit log files (*.jsonl) to verify");
    }
    Path lastFile = null;
    for (int fi = 0; fi < files.size(); fi++) {
      Path f = files.get(fi);
      lastFile = f;
      long fileIndex = -1;
      try (LineReader r = new LineReader(f)) {
        while (r.next()) {
          long ln = r.lineNumber();
          byte[] b = r.buffer();
          int off = r.start();
          int len = r.length();
          if (!r.complete()) {
            tornFile = f;
            tornLine = ln;
            tornBytes = len;
            tornFileIndex = fileIndex;
            break;
          }
          if (fi == 0 && ln == 1 && !looksLikeARecord(b, off, len)) {
            throw new AuditException(f + " is not a SafeRun audit log (its first line is not an"
                + " audit record)");
          }
          JsonNode header = ln == 1 ? header(b, off, len) : null;
          Problem p = header == null ? null : checkKey(f, header);
          if (p == null) {
            p = line(f, fi, r, b, off, len);
          }
          if (p == null && ln == 1) {
            // Only a header whose hash verified is believed.
            p = header == null ? tornNotDeclared() : onHeader(f, header);
            fileIndex = header == null ? -1 : header.path("file").asLong(-1);
          }
          if (p != null) {
            Problem torn = tornNotDeclared();
            return failed(torn != null ? torn : p);
          }
        }
      }
      if (tornFile != null && fi == files.size() - 1) {
        return failed(new Problem(tornFile, tornLine, ProblemKind.TRUNCATED,
            "truncated tail: the last record is incomplete (" + tornBytes + " bytes without an"
                + " end of line), as a crash during a write leaves it; the " + records
                + " records before it verify"));
      }
    }
    if (anchor != null && !anchorFound) {
      return failed(new Problem(prevFile != null ? prevFile : lastFile, prevLine,
          ProblemKind.ANCHOR_MISSING, "the anchor record " + new String(anchor,
              StandardCharsets.US_ASCII) + " is not in the log: records were removed from the"
              + " end, or the chain was rewritten from some point on"));
    }
    if (records == 0) {
      return failed(new Problem(lastFile, 1, ProblemKind.TRUNCATED, "the log holds no complete"
          + " record (an empty file: created just before a crash, or emptied)"));
    }
    if (!lastWasEnd) {
      notes.add(prevFile + ": no end record after line " + prevLine + ": the writer is still"
          + " running or stopped without closing; records removed from the end of a log can"
          + " only be detected with an anchor (--anchor)");
    }
    return new Verification(true, files, records, events, head(), null, notes);
  }

  private Verification failed(Problem p) {
    return new Verification(false, files, records, events, head(), p, notes);
  }

  private String head() {
    return prevHash == null || prevFile == null ? null
        : new String(prevHash, StandardCharsets.US_ASCII);
  }

  private static JsonNode header(byte[] b, int off, int len) {
    if (!Records.wellFormed(b, off, len) || Records.kind(b, off, len) != Records.Kind.HEADER) {
      return null;
    }
    try {
      return Records.parse(b, off, len).header();
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Checks a file's key claim before its hash: without the right key the hash cannot be checked,
   * and saying so beats reporting every record as edited.
   */
  private Problem checkKey(Path f, JsonNode header) {
    String alg = header.path("alg").asText();
    String keyId = header.path("key").asText(null);
    if (hmac == null) {
      if (ChainHash.HMAC_SHA256.equals(alg)) {
        throw new AuditException(f + " is keyed (" + alg + ", key id " + keyId + "): give its"
            + " key to verify it (saferun audit verify --key-file FILE)");
      }
      return null;
    }
    if (!ChainHash.HMAC_SHA256.equals(alg)) {
      return new Problem(f, 1, ProblemKind.KEY_MISMATCH, "the file is not keyed (" + alg
          + ") but a key was given: it may have been rewritten by someone without the key");
    }
    if (!hmac.keyId().equals(keyId)) {
      return new Problem(f, 1, ProblemKind.KEY_MISMATCH, "the file is keyed with key id "
          + keyId + " but the key given has id " + hmac.keyId());
    }
    return null;
  }

  /** After the header's hash verified: its format, and a torn tail it declares. */
  private Problem onHeader(Path f, JsonNode header) {
    String format = header.path("format").asText();
    if (!Records.FORMAT.equals(format)) {
      return new Problem(f, 1, ProblemKind.EDITED, "unknown audit log format '" + format
          + "' (this version reads " + Records.FORMAT + "): edited, or written by a newer"
          + " version");
    }
    if (tornFile != null) {
      JsonNode t = header.get("torn");
      if (t == null || t.path("file").asLong(-2) != tornFileIndex
          || t.path("bytes").asLong(-1) != tornBytes) {
        return tornNotDeclared();
      }
      notes.add(tornFile + ":" + tornLine + ": an incomplete record (" + tornBytes + " bytes)"
          + " left by a crash; the writer restarted and continued the chain in " + f);
      tornFile = null;
    }
    return null;
  }

  private Problem tornNotDeclared() {
    if (tornFile == null) {
      return null;
    }
    return new Problem(tornFile, tornLine, ProblemKind.TRUNCATED, "truncated: the file ends"
        + " in the middle of a record (" + tornBytes + " bytes without an end of line) and the"
        + " next file does not declare it as a crash it recovered from");
  }

  private Problem line(Path f, int fi, LineReader r, byte[] b, int off, int len)
      throws IOException {
    long ln = r.lineNumber();
    if (!Records.wellFormed(b, off, len)) {
      return new Problem(f, ln, ProblemKind.EDITED, len == 0 ? "an empty line where a record"
          + " should be" : "not a well-formed audit record: it was edited");
    }
    long n = Records.number(b, off, len);
    hasher.hashHex(b, off, Records.hashedLength(len), computed, 0);
    int ho = Records.hashOffset(off, len);
    if (!same(computed, 0, b, ho)) {
      return new Problem(f, ln, ProblemKind.EDITED, hasher == hmac
          ? "the record does not match its HMAC: it was edited"
          : "the record's content does not match its hash: it was edited");
    }
    int po = Records.prevOffset(off, len);
    if (prevHash != null && !same(prevHash, 0, b, po)) {
      return broken(f, fi, r, n);
    }
    if (prevHash != null && n != expectedN) {
      return new Problem(f, ln, ProblemKind.EDITED, "record number " + n + " where " + expectedN
          + " was expected: the chain was rewritten");
    }
    if (prevHash == null) {
      prevHash = new byte[64];
      notes.add(f + ":" + ln + ": the log starts mid-chain at record n=" + n + " (--partial)");
    }
    System.arraycopy(b, ho, prevHash, 0, 64);
    expectedN = n + 1;
    prevFile = f;
    prevLine = ln;
    records++;
    Records.Kind k = Records.kind(b, off, len);
    lastWasEnd = k == Records.Kind.END;
    if (k == Records.Kind.EVENT) {
      events++;
    } else if (k == Records.Kind.GAP) {
      gapNote(f, ln, b, off, len);
    }
    if (anchor != null && !anchorFound && anchor.length == 64 && same(anchor, 0, b, ho)) {
      anchorFound = true;
    }
    return null;
  }

  /** The record does not continue from the previous one: say what most likely happened. */
  private Problem broken(Path f, int fi, LineReader r, long n) throws IOException {
    long ln = r.lineNumber();
    String order = ln == 1 && fi > 0 ? "; files are checked in the order given: "
        + files.stream().map(p -> String.valueOf(p.getFileName()))
            .collect(Collectors.joining(", ")) : "";
    if (n == expectedN) {
      if (prevFile == null) {
        return new Problem(f, ln, ProblemKind.EDITED, "the first record does not start a chain:"
            + " it was replaced, or older files were removed (verify them too, or use --partial)");
      }
      return new Problem(prevFile, prevLine, ProblemKind.EDITED, "record n=" + (n - 1)
          + " was replaced or edited and re-hashed: the next record (" + f + ":" + ln
          + ") does not continue from it");
    }
    if (n > expectedN) {
      String later = find(expectedN, r, fi);
      if (later != null) {
        return new Problem(f, ln, ProblemKind.REORDERED, "out of order: record n=" + expectedN
            + " should be here but comes later, at " + later + order);
      }
      long missing = n - expectedN;
      String range = missing == 1 ? "n=" + expectedN : "n=" + expectedN + ".." + (n - 1);
      String where = prevFile == null ? "at the start of the log (" + range + "); if older files"
          + " were removed on purpose, use --partial" : "before this line (" + range + ")";
      return new Problem(f, ln, ProblemKind.DELETED, missing + " record"
          + (missing == 1 ? "" : "s") + " missing " + where + order);
    }
    return new Problem(f, ln, ProblemKind.REORDERED, "out of order: record n=" + n
        + " comes after n=" + (expectedN - 1) + " (moved or duplicated)" + order);
  }

  /** Where record {@code n} appears after the current line, or {@code null}. */
  private String find(long n, LineReader current, int fi) throws IOException {
    while (current.next()) {
      if (Records.number(current.buffer(), current.start(), current.length()) == n) {
        return files.get(fi) + ":" + current.lineNumber();
      }
    }
    for (int i = fi + 1; i < files.size(); i++) {
      try (LineReader r = new LineReader(files.get(i))) {
        while (r.next()) {
          if (Records.number(r.buffer(), r.start(), r.length()) == n) {
            return files.get(i) + ":" + r.lineNumber();
          }
        }
      }
    }
    return null;
  }

  private void gapNote(Path f, long ln, byte[] b, int off, int len) {
    Records.Parsed g = Records.parse(b, off, len);
    List<String> parts = new ArrayList<>();
    if (g.dropped() > 0) {
      parts.add(g.dropped() + " event(s) dropped (LOG_AND_CONTINUE: their calls went on"
          + " unrecorded)");
    }
    if (g.rejected() > 0) {
      parts.add(g.rejected() + " event(s) refused (FAIL_CLOSED: their calls were denied)");
    }
    notes.add(f + ":" + ln + ": gap: " + String.join(", ", parts)
        + " because the audit queue was full or the writer failed");
  }

  /** Whether a line has at least one of a record's two fixed marks (one edit leaves one). */
  private static boolean looksLikeARecord(byte[] b, int off, int len) {
    if (Records.number(b, off, len) >= 0) {
      return true;
    }
    byte[] mark = ",\"hash\":\"".getBytes(StandardCharsets.US_ASCII);
    int at = off + len - Records.HASH_TAIL;
    if (at < off) {
      return false;
    }
    for (int k = 0; k < mark.length; k++) {
      if (b[at + k] != mark[k]) {
        return false;
      }
    }
    return true;
  }

  private static boolean same(byte[] a, int ao, byte[] b, int bo) {
    for (int i = 0; i < 64; i++) {
      if (a[ao + i] != b[bo + i]) {
        return false;
      }
    }
    return true;
  }
}
