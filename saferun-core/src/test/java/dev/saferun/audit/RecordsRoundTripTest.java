package dev.saferun.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.ManualClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every string survives the log byte for byte, and no string can break a line. */
class RecordsRoundTripTest {
  @TempDir
  Path dir;

  @Test
  void awkwardStringsRoundTripAndNeverBreakALine() throws IOException {
    List<String> strings = List.of("plain", "quote\" back\\slash", "new\nline\rcr\ttab",
        "nul\u0000 bell\u0007 del\u007f", "line sep\u2028 para sep\u2029", "emoji 😀 pair",
        "lone high \ud800 x", "lone low \udc00 x", "reversed \udc00\ud800", "ends high \ud83d",
        "日本語 ümlaut", "");
    Path log = dir.resolve("audit.jsonl");
    try (FileAuditSink s = FileAuditSink.builder(log).clock(new ManualClock()).synchronous()
        .build()) {
      for (int i = 0; i < strings.size(); i++) {
        s.record(AuditFixtures.event(i + 1, AuditEvent.Type.DENIED, strings.get(i),
            strings.get(i)));
      }
    }

    assertThat(Files.readAllLines(log)).hasSize(strings.size() + 2);
    try (Stream<AuditLog.Entry> e = AuditLog.read(List.of(log))) {
      List<AuditEvent> events = e.filter(x -> x.event() != null).map(AuditLog.Entry::event)
          .toList();
      assertThat(events).extracting(AuditEvent::tool).containsExactlyElementsOf(strings);
      assertThat(events).extracting(AuditEvent::arguments).containsExactlyElementsOf(strings);
    }
    assertThat(AuditLog.verify(List.of(log)).intact()).isTrue();
  }
}
