package dev.saferun.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.ManualClock;
import dev.saferun.audit.AuditLog.ProblemKind;
import dev.saferun.audit.AuditLog.Verification;
import dev.saferun.audit.AuditLog.VerifyOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property-style: random logs (several rotated files, awkward characters), random tampering of
 * one kind, and verify must name the first bad record's file and line and say what happened.
 * Seeds are fixed, so a failure reproduces; the failing seed and operation are in the message.
 */
class TamperPropertyTest {
  private static final int LOGS = 4;
  private static final int ROUNDS = 60;
  private static final byte[] KEY = "a-key-of-at-least-16-bytes".getBytes(StandardCharsets.UTF_8);

  @TempDir
  static Path dir;

  private static final List<Log> logs = new ArrayList<>();
  private static int copies;

  /** One generated log: file names and lines, as the sink wrote them. */
  private record Log(List<String> names, List<List<byte[]>> files, byte[] key) {
    int total() {
      return files.stream().mapToInt(List::size).sum();
    }

    /** (file, line index) of a global line index. */
    int[] locate(int global) {
      int g = global;
      for (int f = 0; f < files.size(); f++) {
        if (g < files.get(f).size()) {
          return new int[] {f, g};
        }
        g -= files.get(f).size();
      }
      throw new IndexOutOfBoundsException(global);
    }

    List<List<byte[]>> copy() {
      List<List<byte[]>> c = new ArrayList<>();
      for (List<byte[]> f : files) {
        List<byte[]> lines = new ArrayList<>();
        f.forEach(l -> lines.add(l.clone()));
        c.add(lines);
      }
      return c;
    }
  }

  @BeforeAll
  static void generate() throws IOException {
    for (int i = 0; i < LOGS; i++) {
      Random r = new Random(1000 + i);
      Path d = dir.resolve("log" + i);
      byte[] key = i % 2 == 1 ? KEY : null;
      FileAuditSink.Builder b = FileAuditSink.builder(d.resolve("audit.jsonl"))
          .clock(new ManualClock()).maxFileBytes(4096).fsync(FsyncPolicy.NEVER).synchronous();
      if (key != null) {
        b.hmacKey(key);
      }
      try (FileAuditSink s = b.build()) {
        int n = 20 + r.nextInt(40);
        for (int k = 1; k <= n; k++) {
          s.record(AuditFixtures.random(r, k));
        }
      }
      List<Path> files = AuditLog.files(List.of(d));
      assertThat(files.size()).as("log %d rotates", i).isGreaterThan(2);
      Verification v = verify(files, key);
      assertThat(v.intact()).as("untouched log %d verifies: %s", i, v.problem()).isTrue();
      logs.add(new Log(files.stream().map(p -> p.getFileName().toString()).toList(),
          AuditFixtures.lines(files), key));
    }
  }

  private static Verification verify(List<Path> files, byte[] key) throws IOException {
    return AuditLog.verify(files, key == null ? VerifyOptions.DEFAULT
        : VerifyOptions.DEFAULT.withKey(key));
  }

  private List<Path> write(Log log, List<List<byte[]>> files) {
    return AuditFixtures.write(dir.resolve("copy" + copies++), log.names(), files);
  }

  private void expect(Verification v, List<Path> files, int file, int line, String what,
      ProblemKind... kinds) {
    assertThat(v.intact()).as("%s is detected", what).isFalse();
    assertThat(v.problem().file()).as("%s: file of %s", what, v.problem())
        .isEqualTo(files.get(file));
    assertThat(v.problem().line()).as("%s: line of %s", what, v.problem()).isEqualTo(line);
    assertThat(v.problem().kind()).as("%s: kind of %s", what, v.problem()).isIn((Object[]) kinds);
  }

  @Test
  void anEditedByteIsFoundAtItsLine() throws IOException {
    Random r = new Random(1);
    for (int round = 0; round < ROUNDS; round++) {
      Log log = logs.get(round % LOGS);
      int g = r.nextInt(log.total());
      int[] at = log.locate(g);
      List<List<byte[]>> files = log.copy();
      byte[] line = files.get(at[0]).get(at[1]);
      int pos = r.nextInt(line.length);
      byte b;
      do {
        b = (byte) (0x20 + r.nextInt(0x5f));
      } while (b == line[pos]);
      line[pos] = b;
      List<Path> paths = write(log, files);
      String what = "round " + round + ": byte " + pos + " of line " + (at[1] + 1) + " of "
          + log.names().get(at[0]);
      // In a keyed log an edit of the header's key id is reported as a key mismatch.
      expect(verify(paths, log.key()), paths, at[0], at[1] + 1, what, ProblemKind.EDITED,
          ProblemKind.KEY_MISMATCH);
    }
  }

  @Test
  void aDeletedRecordIsFoundWhereItWas() throws IOException {
    Random r = new Random(2);
    for (int round = 0; round < ROUNDS; round++) {
      Log log = logs.get(round % LOGS);
      int g = r.nextInt(log.total() - 1); // removing the very last line is undetectable
      int[] at = log.locate(g);
      List<List<byte[]>> files = log.copy();
      files.get(at[0]).remove(at[1]);
      List<Path> paths = write(log, files);
      int file = at[0];
      int line = at[1] + 1;
      if (at[1] == files.get(at[0]).size()) { // it was the last line of its file
        file++;
        line = 1;
      }
      expect(verify(paths, log.key()), paths, file, line, "round " + round + ": deleted line "
          + (at[1] + 1) + " of " + log.names().get(at[0]), ProblemKind.DELETED);
    }
  }

  @Test
  void severalDeletedRecordsAreCounted() throws IOException {
    Log log = logs.get(0);
    List<List<byte[]>> files = log.copy();
    files.get(1).subList(2, 5).clear();
    List<Path> paths = write(log, files);

    Verification v = verify(paths, null);
    expect(v, paths, 1, 3, "three deleted", ProblemKind.DELETED);
    assertThat(v.problem().message()).startsWith("3 records missing before this line (n=");
  }

  @Test
  void swappedNeighboursAreFoundAtTheFirstOfThem() throws IOException {
    Random r = new Random(3);
    for (int round = 0; round < ROUNDS; round++) {
      Log log = logs.get(round % LOGS);
      int g = r.nextInt(log.total() - 1);
      List<byte[]> flat = flat(log.copy());
      byte[] t = flat.get(g);
      flat.set(g, flat.get(g + 1));
      flat.set(g + 1, t);
      List<List<byte[]>> files = unflat(flat, log);
      List<Path> paths = write(log, files);
      int[] at = log.locate(g);
      expect(verify(paths, log.key()), paths, at[0], at[1] + 1, "round " + round
          + ": swapped global lines " + g + " and " + (g + 1), ProblemKind.REORDERED);
    }
  }

  @Test
  void aMovedRecordIsFoundWhereTheOrderFirstBreaks() throws IOException {
    Random r = new Random(4);
    for (int round = 0; round < ROUNDS; round++) {
      Log log = logs.get(round % LOGS);
      List<byte[]> flat = flat(log.copy());
      int from = r.nextInt(flat.size());
      int to;
      do {
        to = r.nextInt(flat.size());
      } while (to == from);
      flat.add(to, flat.remove(from));
      List<List<byte[]>> files = unflat(flat, log);
      List<Path> paths = write(log, files);
      int[] at = log.locate(Math.min(from, to));
      expect(verify(paths, log.key()), paths, at[0], at[1] + 1, "round " + round + ": moved "
          + from + " to " + to, ProblemKind.REORDERED);
    }
  }

  @Test
  void aFileCutInsideARecordIsATruncationAtThatLine() throws IOException {
    Random r = new Random(5);
    for (int round = 0; round < ROUNDS; round++) {
      Log log = logs.get(round % LOGS);
      List<List<byte[]>> files = log.copy();
      int f = r.nextInt(files.size());
      List<byte[]> lines = files.get(f);
      int cut = r.nextInt(lines.size());
      byte[] partial = Arrays.copyOf(lines.get(cut), 1 + r.nextInt(lines.get(cut).length));
      List<Path> paths = write(log, files);
      // Rewrite the file: lines before the cut, then the partial line without a newline.
      try (var os = Files.newOutputStream(paths.get(f))) {
        for (byte[] l : lines.subList(0, cut)) {
          os.write(l);
          os.write('\n');
        }
        os.write(partial);
      }
      expect(verify(paths, log.key()), paths, f, cut + 1, "round " + round + ": cut line "
          + (cut + 1) + " of " + log.names().get(f) + " at byte " + partial.length,
          ProblemKind.TRUNCATED);
    }
  }

  @Test
  void aFileCutBetweenRecordsIsADeletionUnlessItIsTheLastFile() throws IOException {
    Random r = new Random(6);
    for (int round = 0; round < ROUNDS; round++) {
      Log log = logs.get(round % LOGS);
      List<List<byte[]>> files = log.copy();
      int f = r.nextInt(files.size());
      List<byte[]> lines = files.get(f);
      int keep = 1 + r.nextInt(lines.size() - 1);
      lines.subList(keep, lines.size()).clear();
      List<Path> paths = write(log, files);
      Verification v = verify(paths, log.key());
      if (f == files.size() - 1) {
        assertThat(v.intact()).isTrue();
        assertThat(v.notes()).anySatisfy(n -> assertThat(n).contains("no end record"));
      } else {
        expect(v, paths, f + 1, 1, "round " + round + ": kept " + keep + " lines of "
            + log.names().get(f), ProblemKind.DELETED);
      }
    }
  }

  @Test
  void aRecordReplacedAndReHashedWithoutTheKeyIsFoundAtItsLine() throws IOException {
    Random r = new Random(7);
    for (int round = 0; round < ROUNDS; round++) {
      Log log = logs.get(round % LOGS);
      int g = r.nextInt(log.total() - 1);
      int[] at = log.locate(g);
      List<List<byte[]>> files = log.copy();
      byte[] line = files.get(at[0]).get(at[1]);
      int pos = 10 + r.nextInt(line.length - 160); // inside the body
      byte[] forged = line.clone();
      forged[pos] = forged[pos] == 'x' ? (byte) 'y' : (byte) 'x';
      // The attacker holds no key: a sha-256 re-hash is all they can compute.
      files.get(at[0]).set(at[1], AuditFixtures.rehash(forged, null));
      List<Path> paths = write(log, files);
      expect(verify(paths, log.key()), paths, at[0], at[1] + 1, "round " + round
          + ": re-hashed line " + (at[1] + 1) + " of " + log.names().get(at[0]),
          ProblemKind.EDITED, ProblemKind.KEY_MISMATCH);
    }
  }

  private static List<byte[]> flat(List<List<byte[]>> files) {
    List<byte[]> out = new ArrayList<>();
    files.forEach(out::addAll);
    return out;
  }

  /** Puts lines back into files of the original sizes. */
  private static List<List<byte[]>> unflat(List<byte[]> flat, Log log) {
    List<List<byte[]>> out = new ArrayList<>();
    int i = 0;
    for (List<byte[]> f : log.files()) {
      out.add(new ArrayList<>(flat.subList(i, i + f.size())));
      i += f.size();
    }
    return out;
  }
}
