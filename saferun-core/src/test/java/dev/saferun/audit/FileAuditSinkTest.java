package dev.saferun.audit;

import static dev.saferun.audit.AuditFixtures.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.saferun.ManualClock;
import dev.saferun.audit.AuditEvent.Type;
import dev.saferun.audit.AuditLog.EntryKind;
import dev.saferun.audit.AuditLog.ProblemKind;
import dev.saferun.audit.AuditLog.Verification;
import dev.saferun.audit.AuditLog.VerifyOptions;
import dev.saferun.internal.json.Canonical;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The JSON Lines file sink: format, chain, HMAC, rotation, restarts, crashes. */
@Timeout(60)
class FileAuditSinkTest {
  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(
      StandardCharsets.UTF_8);

  @TempDir
  Path dir;

  private final ManualClock clock = new ManualClock("2026-01-15T10:30:00Z");

  private Path log() {
    return dir.resolve("audit.jsonl");
  }

  private FileAuditSink.Builder sink() {
    return FileAuditSink.builder(log()).clock(clock);
  }

  private static List<AuditEvent> events(List<Path> files) throws IOException {
    try (Stream<AuditLog.Entry> s = AuditLog.read(files)) {
      return s.filter(e -> e.kind() == EntryKind.EVENT).map(AuditLog.Entry::event).toList();
    }
  }

  @Test
  void everyEventIsOneLineThatReadsBackAsTheSameEvent() throws IOException {
    Random r = new Random(7);
    List<AuditEvent> written = new ArrayList<>();
    try (FileAuditSink s = sink().build()) {
      for (int i = 1; i <= 500; i++) {
        AuditEvent e = AuditFixtures.random(r, i);
        written.add(e);
        s.record(e);
      }
    }

    assertThat(events(List.of(log()))).containsExactlyElementsOf(written);
    assertThat(Files.readAllLines(log())).hasSize(502); // header + 500 events + end
  }

  @Test
  void aRecordIsTheEventByComponentNameBetweenItsNumberAndItsChainHashes() throws IOException {
    try (FileAuditSink s = sink().synchronous().build()) {
      s.record(new AuditEvent(AuditFixtures.T0, 7, Type.DENIED, "create_refund",
          dev.saferun.CallContext.of("agent", "support", "run", "r-42"),
          "{\"amount\":6000,\"card_number\":\"***\"}", "ab12", "support", "9f3c", "max refund",
          "Single refund cannot exceed $50.00", null, 81234, null, null, 0, null));
    }
    List<String> lines = Files.readAllLines(log());
    String line = lines.get(1);

    assertThat(line).startsWith("{\"n\":2,\"time\":\"2026-01-15T10:30:00Z\",\"sequence\":7,"
        + "\"type\":\"DENIED\",\"tool\":\"create_refund\","
        + "\"context\":{\"agent\":\"support\",\"run\":\"r-42\"},"
        + "\"arguments\":{\"amount\":6000,\"card_number\":\"***\"},\"argumentsHash\":\"ab12\","
        + "\"policy\":\"support\",\"policyVersion\":\"9f3c\",\"rule\":\"max refund\","
        + "\"message\":\"Single refund cannot exceed $50.00\",\"decisionNanos\":81234,"
        + "\"toolNanos\":0,\"prev\":\"");
    JsonNode header = AuditFixtures.JSON.readTree(lines.get(0));
    assertThat(header.path("header").path("format").asText()).isEqualTo("saferun-audit/1");
    assertThat(header.path("prev").asText()).isEqualTo("0".repeat(64));
    JsonNode record = AuditFixtures.JSON.readTree(line);
    assertThat(record.path("prev").asText()).isEqualTo(header.path("hash").asText());
    String hashed = line.substring(0, line.indexOf(",\"hash\":\""));
    assertThat(record.path("hash").asText()).isEqualTo(Canonical.sha256(hashed));
    assertThat(lines.get(2)).contains("\"end\":\"close\"");
  }

  @Test
  void argumentsThatAreNotCanonicalJsonAreKeptAsAStringSoNoRecordCanBeBroken()
      throws IOException {
    List<String> awkward = List.of("{\"b\":1,\"a\":2}", "{\"a\":1}\n{\"n\":1}",
        "{\"a\":1},\"type\":\"ALLOWED\"", "[1,2]", "<unparsed, 12 characters>", "{ }");
    try (FileAuditSink s = sink().build()) {
      for (int i = 0; i < awkward.size(); i++) {
        s.record(event(i + 1, Type.DENIED, "t", awkward.get(i)));
      }
    }

    assertThat(events(List.of(log()))).extracting(AuditEvent::arguments)
        .containsExactlyElementsOf(awkward);
    assertThat(Files.readAllLines(log())).hasSize(awkward.size() + 2);
    assertThat(AuditLog.verify(List.of(log())).intact()).isTrue();
  }

  @Test
  void theChainVerifiesAndTheHeadIsTheLastRecordsHash() throws IOException {
    String head;
    try (FileAuditSink s = sink().build()) {
      for (int i = 1; i <= 100; i++) {
        s.record(event(i, Type.ALLOWED, "t", "{}"));
      }
      s.flush();
      head = s.head();
    }
    Verification v = AuditLog.verify(List.of(log()));

    assertThat(v.intact()).isTrue();
    assertThat(v.problem()).isNull();
    assertThat(v.records()).isEqualTo(102);
    assertThat(v.events()).isEqualTo(100);
    assertThat(v.notes()).isEmpty();
    List<String> lines = Files.readAllLines(log());
    assertThat(lines.get(100)).contains("\"hash\":\"" + head + "\"");
    assertThat(v.head()).isEqualTo(AuditFixtures.JSON.readTree(lines.get(101)).path("hash")
        .asText());
  }

  @Test
  void sizeRotationKeepsTheChainAcrossFiles() throws IOException {
    try (FileAuditSink s = sink().maxFileBytes(4096).build()) {
      for (int i = 1; i <= 200; i++) {
        s.record(event(i, Type.ALLOWED, "tool", "{\"i\":" + i + "}"));
      }
    }
    List<Path> files = AuditLog.files(List.of(dir));

    assertThat(files.size()).isGreaterThan(5);
    assertThat(files.get(0).getFileName()).hasToString("audit-000001.jsonl");
    assertThat(files.get(files.size() - 1).getFileName()).hasToString("audit.jsonl");
    List<List<byte[]>> lines = AuditFixtures.lines(files);
    for (int i = 0; i < files.size(); i++) {
      assertThat(Files.size(files.get(i))).isLessThanOrEqualTo(4096);
      JsonNode header = AuditFixtures.JSON.readTree(lines.get(i).get(0));
      assertThat(header.path("header").path("file").asLong()).isEqualTo(i + 1);
      String expectedPrev = i == 0 ? "0".repeat(64) : AuditFixtures.text(AuditFixtures.hashOf(
          lines.get(i - 1).get(lines.get(i - 1).size() - 1)));
      assertThat(header.path("prev").asText()).isEqualTo(expectedPrev);
      assertThat(header.path("header").path("reason").asText())
          .isEqualTo(i == 0 ? "start" : "size");
    }
    Verification v = AuditLog.verify(List.of(dir));
    assertThat(v.intact()).isTrue();
    assertThat(v.events()).isEqualTo(200);
    assertThat(events(files)).extracting(AuditEvent::sequence)
        .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 200).boxed()
            .toList());
  }

  @Test
  void timeRotationHappensAtPeriodBoundariesOfTheInjectedClock() throws IOException {
    try (FileAuditSink s = sink().synchronous().rotateEvery(Duration.ofHours(1)).build()) {
      s.record(event(1, Type.ALLOWED, "t", "{}"));
      clock.advance(Duration.ofMinutes(29)); // 10:59
      s.record(event(2, Type.ALLOWED, "t", "{}"));
      clock.advance(Duration.ofMinutes(1)); // 11:00
      s.record(event(3, Type.ALLOWED, "t", "{}"));
    }

    assertThat(AuditLog.files(List.of(dir))).extracting(p -> p.getFileName().toString())
        .containsExactly("audit-000001.jsonl", "audit.jsonl");
    assertThat(Files.readAllLines(dir.resolve("audit-000001.jsonl"))).hasSize(4);
    assertThat(Files.readString(log())).contains("\"reason\":\"time\"")
        .contains("\"created\":\"2026-01-15T11:00:00Z\"");
    assertThat(AuditLog.verify(List.of(dir)).intact()).isTrue();
  }

  @Test
  void reopeningALogContinuesItsChainInANewFile() throws IOException {
    try (FileAuditSink s = sink().build()) {
      s.record(event(1, Type.ALLOWED, "t", "{}"));
    }
    try (FileAuditSink s = sink().build()) {
      s.record(event(1, Type.DENIED, "t", "{}"));
    }

    assertThat(AuditLog.files(List.of(dir))).extracting(p -> p.getFileName().toString())
        .containsExactly("audit-000001.jsonl", "audit.jsonl");
    Verification v = AuditLog.verify(List.of(dir));
    assertThat(v.intact()).isTrue();
    assertThat(v.events()).isEqualTo(2);
  }

  @Test
  void aSecondWriterOnTheSameLogIsRefused() throws IOException {
    FileAuditSink first = sink().build();
    try {
      assertThatThrownBy(() -> sink().build()).isInstanceOf(IOException.class)
          .hasMessageContaining("already written by another audit sink");
    } finally {
      first.close();
    }
  }

  @Test
  void newChainReplacesTheActiveFileButNeverAnEarlierChainsRotatedFiles() throws IOException {
    try (FileAuditSink s = sink().build()) {
      s.record(event(1, Type.ALLOWED, "old", "{}"));
    }
    try (FileAuditSink s = sink().newChain().build()) {
      s.record(event(1, Type.ALLOWED, "new", "{}"));
    }
    assertThat(events(List.of(log()))).extracting(AuditEvent::tool).containsExactly("new");
    assertThat(AuditLog.verify(List.of(log())).intact()).isTrue();

    try (FileAuditSink s = sink().build()) { // rotates audit.jsonl to audit-000001.jsonl
      s.record(event(2, Type.ALLOWED, "t", "{}"));
    }
    assertThatThrownBy(() -> sink().newChain().build()).isInstanceOf(IOException.class)
        .hasMessageContaining("rotated files of an earlier chain exist");
  }

  @Test
  void aKeyedChainVerifiesOnlyWithItsKey() throws IOException {
    try (FileAuditSink s = sink().hmacKey(KEY).build()) {
      s.record(event(1, Type.ALLOWED, "t", "{}"));
    }
    List<Path> files = List.of(log());

    assertThat(AuditLog.verify(files, VerifyOptions.DEFAULT.withKey(KEY)).intact()).isTrue();
    assertThatThrownBy(() -> AuditLog.verify(files)).isInstanceOf(AuditException.class)
        .hasMessageContaining("is keyed (hmac-sha256, key id ");
    byte[] other = Arrays.copyOf(KEY, KEY.length);
    other[0] = 'x';
    Verification wrong = AuditLog.verify(files, VerifyOptions.DEFAULT.withKey(other));
    assertThat(wrong.intact()).isFalse();
    assertThat(wrong.problem().kind()).isEqualTo(ProblemKind.KEY_MISMATCH);
    assertThat(wrong.problem().line()).isEqualTo(1);
  }

  @Test
  void anUnkeyedFileFailsVerificationWhenAKeyIsGiven() throws IOException {
    try (FileAuditSink s = sink().build()) {
      s.record(event(1, Type.ALLOWED, "t", "{}"));
    }
    Verification v = AuditLog.verify(List.of(log()), VerifyOptions.DEFAULT.withKey(KEY));

    assertThat(v.intact()).isFalse();
    assertThat(v.problem().kind()).isEqualTo(ProblemKind.KEY_MISMATCH);
    assertThat(v.problem().message()).contains("not keyed");
  }

  @Test
  void aLogIsNotContinuedWithAnotherKey() throws IOException {
    try (FileAuditSink s = sink().hmacKey(KEY).build()) {
      s.record(event(1, Type.ALLOWED, "t", "{}"));
    }
    assertThatThrownBy(() -> sink().build()).isInstanceOf(IOException.class)
        .hasMessageContaining("uses hmac-sha256 (key id ")
        .hasMessageContaining("configured with sha256");
  }

  @Test
  void aCrashMidWriteLeavesALogThatVerifiesUpToTheLastCompleteRecord() throws IOException {
    byte[] crashed;
    try (FileAuditSink s = sink().build()) {
      for (int i = 1; i <= 10; i++) {
        s.record(event(i, Type.ALLOWED, "t", "{\"i\":" + i + "}"));
      }
      s.flush();
      byte[] bytes = Files.readAllBytes(log()); // header + 10 records, no end record yet
      crashed = Arrays.copyOf(bytes, bytes.length - 40); // the 10th record is cut short
    }
    Path crashDir = Files.createDirectories(dir.resolve("crash"));
    Path torn = Files.write(crashDir.resolve("audit.jsonl"), crashed);

    Verification v = AuditLog.verify(List.of(torn));
    assertThat(v.intact()).isFalse();
    assertThat(v.problem().kind()).isEqualTo(ProblemKind.TRUNCATED);
    assertThat(v.problem().line()).isEqualTo(11);
    assertThat(v.problem().toString()).isEqualTo(torn + ":11: truncated: truncated tail: the"
        + " last record is incomplete (" + (crashed.length - lastNewline(crashed) - 1)
        + " bytes without an end of line), as a crash during a write leaves it; the 10 records"
        + " before it verify");
    assertThat(v.records()).isEqualTo(10);
    try (Stream<AuditLog.Entry> s = AuditLog.read(List.of(torn))) {
      assertThat(s.map(AuditLog.Entry::kind).toList()).endsWith(EntryKind.EVENT, EntryKind.TORN);
    }

    // The restarted writer continues from the last complete record and declares the torn line.
    try (FileAuditSink s = FileAuditSink.builder(torn).clock(clock).build()) {
      s.record(event(11, Type.ALLOWED, "t", "{}"));
    }
    Verification after = AuditLog.verify(List.of(crashDir));
    assertThat(after.intact()).isTrue();
    assertThat(after.events()).isEqualTo(10);
    assertThat(after.notes()).singleElement().asString()
        .contains("audit-000001.jsonl:11: an incomplete record")
        .contains("left by a crash; the writer restarted");
  }

  private static int lastNewline(byte[] b) {
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  @Test
  void aRecordReplacedAndReHashedIsFoundAtItsOwnLine() throws IOException {
    try (FileAuditSink s = sink().build()) {
      for (int i = 1; i <= 5; i++) {
        s.record(event(i, Type.DENIED, "t", "{}"));
      }
    }
    List<byte[]> lines = AuditFixtures.lines(List.of(log())).get(0);
    String forged = AuditFixtures.text(lines.get(3)).replace("DENIED", "ALLOWED");
    lines.set(3, AuditFixtures.rehash(forged.getBytes(StandardCharsets.UTF_8), null));
    List<Path> files = AuditFixtures.write(dir.resolve("t"), List.of("audit.jsonl"),
        List.of(lines));

    Verification v = AuditLog.verify(files);
    assertThat(v.problem().kind()).isEqualTo(ProblemKind.EDITED);
    assertThat(v.problem().line()).isEqualTo(4);
    assertThat(v.problem().message()).contains("replaced or edited and re-hashed");
  }

  @Test
  void anAnchorDetectsAChainRewrittenFromSomePointOn() throws IOException {
    String anchor;
    try (FileAuditSink s = sink().build()) {
      for (int i = 1; i <= 5; i++) {
        s.record(event(i, Type.DENIED, "t", "{}"));
      }
      s.flush();
      anchor = s.head();
    }
    List<byte[]> lines = AuditFixtures.lines(List.of(log())).get(0);
    // Rewrite record 4 onwards, recomputing every hash: undetectable by the chain alone.
    for (int i = 4; i < lines.size(); i++) {
      byte[] l = i == 4 ? AuditFixtures.text(lines.get(i)).replace("DENIED", "ALLOWED")
          .getBytes(StandardCharsets.UTF_8) : lines.get(i);
      lines.set(i, AuditFixtures.relink(l, AuditFixtures.hashOf(lines.get(i - 1)), null));
    }
    List<Path> files = AuditFixtures.write(dir.resolve("t"), List.of("audit.jsonl"),
        List.of(lines));

    assertThat(AuditLog.verify(files).intact()).isTrue();
    Verification v = AuditLog.verify(files, VerifyOptions.DEFAULT.withAnchor(anchor));
    assertThat(v.intact()).isFalse();
    assertThat(v.problem().kind()).isEqualTo(ProblemKind.ANCHOR_MISSING);
    assertThat(AuditLog.verify(List.of(log()), VerifyOptions.DEFAULT.withAnchor(anchor))
        .intact()).isTrue();
  }

  @Test
  void recordsCutFromTheEndAreANoteWithoutAnAnchorAndAFailureWithOne() throws IOException {
    String anchor;
    try (FileAuditSink s = sink().build()) {
      for (int i = 1; i <= 5; i++) {
        s.record(event(i, Type.DENIED, "t", "{}"));
      }
      s.flush();
      anchor = s.head();
    }
    List<byte[]> lines = AuditFixtures.lines(List.of(log())).get(0);
    List<Path> files = AuditFixtures.write(dir.resolve("t"), List.of("audit.jsonl"),
        List.of(lines.subList(0, 4)));

    Verification v = AuditLog.verify(files);
    assertThat(v.intact()).isTrue();
    assertThat(v.notes()).singleElement().asString().contains("no end record after line 4");
    Verification anchored = AuditLog.verify(files, VerifyOptions.DEFAULT.withAnchor(anchor));
    assertThat(anchored.problem().kind()).isEqualTo(ProblemKind.ANCHOR_MISSING);
  }

  @Test
  void aLogWhoseOlderFilesWereRemovedVerifiesOnlyWithPartial() throws IOException {
    try (FileAuditSink s = sink().maxFileBytes(4096).build()) {
      for (int i = 1; i <= 60; i++) {
        s.record(event(i, Type.ALLOWED, "tool", "{}"));
      }
    }
    Files.delete(dir.resolve("audit-000001.jsonl"));

    Verification v = AuditLog.verify(List.of(dir));
    assertThat(v.problem().kind()).isEqualTo(ProblemKind.DELETED);
    assertThat(v.problem().file().getFileName()).hasToString("audit-000002.jsonl");
    assertThat(v.problem().line()).isEqualTo(1);
    assertThat(v.problem().message()).contains("at the start of the log").contains("--partial");
    Verification partial = AuditLog.verify(List.of(dir), VerifyOptions.DEFAULT.withPartial(true));
    assertThat(partial.intact()).isTrue();
    assertThat(partial.notes()).first().asString().contains("starts mid-chain");
  }

  @Test
  void aBuilderRefusesBadOptionsWhenTheyAreSet() {
    assertThatThrownBy(() -> FileAuditSink.builder(dir.resolve("audit.log")))
        .hasMessage("audit file name must end with .jsonl, got '" + dir.resolve("audit.log")
            + "'");
    assertThatThrownBy(() -> sink().hmacKey(new byte[8]))
        .hasMessage("audit HMAC key must have at least 16 bytes, got 8");
    assertThatThrownBy(() -> sink().maxFileBytes(100))
        .hasMessage("maxFileBytes must be 0 (no size rotation) or at least 4096, got 100");
    assertThatThrownBy(() -> sink().rotateEvery(Duration.ofMillis(10)))
        .hasMessage("rotateEvery must be at least 1s, got PT0.01S");
    assertThatThrownBy(() -> sink().queueCapacity(0))
        .hasMessage("queueCapacity must be >= 1, got 0");
    assertThatThrownBy(() -> sink().queueFullWait(Duration.ofMillis(-1)))
        .hasMessage("queueFullWait must be between 0 and 1h, got PT-0.001S");
    assertThatThrownBy(() -> sink().queueFullWait(Duration.ofHours(2)))
        .hasMessage("queueFullWait must be between 0 and 1h, got PT2H");
  }

  @Test
  void afterCloseRecordFailsPerTheFailurePolicy() throws IOException {
    FileAuditSink closed = sink().build();
    closed.close();
    assertThatThrownBy(() -> closed.record(event(1, Type.ALLOWED, "t", "{}")))
        .isInstanceOf(AuditException.class).hasMessageContaining("is closed");
    assertThat(closed.rejected()).isEqualTo(1);

    FileAuditSink lenient = FileAuditSink.builder(dir.resolve("other.jsonl")).clock(clock)
        .failurePolicy(AuditSink.FailurePolicy.LOG_AND_CONTINUE).build();
    lenient.close();
    lenient.record(event(1, Type.ALLOWED, "t", "{}"));
    assertThat(lenient.dropped()).isEqualTo(1);
  }
}
