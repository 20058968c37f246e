package dev.saferun.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.internal.audit.ChainHash;
import dev.saferun.internal.json.Canonical;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Events, logs and byte-level surgery on audit files, for the audit tests. */
final class AuditFixtures {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Instant T0 = Instant.parse("2026-01-15T10:30:00Z");
  private static final String[] WORDS = {"refund", "ümlaut", "quote\"d", "back\\slash",
      "line\nbreak", "tab\tstop", "emoji 😀", "ctl\u0001x", "", "日本語", "a,b", "=cmd()"};

  private AuditFixtures() {}

  static AuditEvent event(long seq, AuditEvent.Type type, String tool, String args) {
    return new AuditEvent(T0.plusMillis(seq * 1000), seq, type, tool,
        CallContext.of("run", "r1", "user", "u1"), args, null, "p", "v1",
        type == AuditEvent.Type.DENIED ? "cap" : null, type == AuditEvent.Type.DENIED
            ? "Denied by rule \"cap\"" : "Allowed", null, 1234, null, null, 0, null);
  }

  /** A random event exercising every field and awkward characters. */
  static AuditEvent random(Random r, long seq) {
    AuditEvent.Type type = AuditEvent.Type.values()[r.nextInt(AuditEvent.Type.values().length)];
    String args;
    switch (r.nextInt(4)) {
      case 0:
        args = null;
        break;
      case 1:
        args = "<unparsed, " + r.nextInt(99) + " characters>";
        break;
      default:
        ObjectNode o = JSON.createObjectNode();
        o.put("amount", new BigDecimal(r.nextInt(100_000)).movePointLeft(r.nextInt(3)));
        o.put("note", word(r) + word(r));
        o.putArray("items").add(r.nextInt(10)).add(word(r));
        args = Canonical.write(o);
    }
    Decision.ShadowVerdict shadow = r.nextBoolean() ? null : new Decision.ShadowVerdict(
        Decision.Outcome.values()[r.nextInt(3)], "p" + r.nextInt(3), "rule " + word(r),
        r.nextBoolean() ? null : "would " + word(r));
    return new AuditEvent(T0.plusMillis(seq * 997), seq, type, "tool_" + r.nextInt(5),
        CallContext.of("run", "r" + r.nextInt(3), "user", word(r)), args,
        r.nextBoolean() ? null : Canonical.sha256(word(r)), "policy " + word(r), "v" + seq,
        r.nextBoolean() ? null : "rule " + word(r), word(r) + " message", shadow,
        r.nextInt(1_000_000), r.nextBoolean() ? null : "apr_" + seq,
        r.nextBoolean() ? null : word(r), r.nextInt(1000),
        r.nextBoolean() ? null : new BigDecimal(r.nextInt(10_000)).movePointLeft(2));
  }

  private static String word(Random r) {
    return WORDS[r.nextInt(WORDS.length)];
  }

  /** Every file's lines, without their newlines. */
  static List<List<byte[]>> lines(List<Path> files) {
    List<List<byte[]>> out = new ArrayList<>();
    for (Path f : files) {
      out.add(split(read(f)));
    }
    return out;
  }

  static List<byte[]> split(byte[] bytes) {
    List<byte[]> lines = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\n') {
        lines.add(Arrays.copyOfRange(bytes, start, i));
        start = i + 1;
      }
    }
    if (start != bytes.length) {
      throw new IllegalStateException("the fixture log has a torn line");
    }
    return lines;
  }

  /** Writes files with the given lines (each followed by a newline) into {@code dir}. */
  static List<Path> write(Path dir, List<String> names, List<List<byte[]>> files) {
    try {
      Files.createDirectories(dir);
      List<Path> out = new ArrayList<>();
      for (int i = 0; i < files.size(); i++) {
        Path p = dir.resolve(names.get(i));
        try (var os = Files.newOutputStream(p)) {
          for (byte[] l : files.get(i)) {
            os.write(l);
            os.write('\n');
          }
        }
        out.add(p);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] read(Path f) {
    try {
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A line with its hash recomputed (sha-256 or HMAC), as an attacker would. */
  static byte[] rehash(byte[] line, byte[] key) {
    int hashed = line.length - (9 + 64 + 2);
    byte[] out = line.clone();
    ChainHash h = key == null ? ChainHash.sha256() : ChainHash.hmac(key);
    h.hashHex(out, 0, hashed, out, hashed + 9);
    return out;
  }

  /** A line with its prev field replaced, then re-hashed. */
  static byte[] relink(byte[] line, byte[] prevHex, byte[] key) {
    byte[] out = line.clone();
    int prevAt = line.length - (9 + 64 + 2) - (9 + 64 + 1) + 9;
    System.arraycopy(prevHex, 0, out, prevAt, 64);
    return rehash(out, key);
  }

  static byte[] hashOf(byte[] line) {
    return Arrays.copyOfRange(line, line.length - 66, line.length - 2);
  }

  static String text(byte[] line) {
    return new String(line, StandardCharsets.UTF_8);
  }
}
