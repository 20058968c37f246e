package dev.saferun.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.Execution;
import dev.saferun.Fixtures;
import dev.saferun.ManualClock;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditLog.Verification;
import dev.saferun.internal.audit.AsyncWriter;
import dev.saferun.internal.audit.ChainHash;
import dev.saferun.internal.audit.LogWriter;
import dev.saferun.internal.audit.SinkWriter;
import dev.saferun.policy.PolicySet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The file sink behind a real SafeRun: redaction on disk, and a full queue per policy. */
@Timeout(60)
class FileAuditSinkSafeRunTest {
  static final String PAYMENTS = String.join("\n",
      "version: \"1\"",
      "name: payments",
      "redact: [args.card_number, args.customer.ssn]",
      "approvals: {default_timeout: 15m, mode: defer}",
      "tools:",
      "  charge:",
      "    rules:",
      "      - name: cap",
      "        conditions: [{path: args.amount, op: lte, value: 5000}]",
      "      - name: big charges need a human",
      "        action: require_approval",
      "        conditions: [{path: args.amount, op: gt, value: 1000}]",
      "      - name: no test cards",
      "        mode: shadow",
      "        conditions: [{path: args.card_number, op: not_in, value: [\"4000000000000002\"]}]",
      "");

  private static final List<String> SECRETS = List.of("4111111111111111", "078-05-1120",
      "5555555555554444", "4000000000000002", "6011000990139424");

  @TempDir
  Path dir;

  private final ManualClock clock = new ManualClock();

  private static ToolCall charge(int amount, String card, String ssn) {
    return ToolCall.of("charge", "{\"amount\":" + amount + ",\"card_number\":\"" + card
        + "\",\"customer\":{\"name\":\"Ann\",\"ssn\":\"" + ssn + "\"}}",
        CallContext.of("run", "r1", "user", "u1"));
  }

  @Test
  void redactedValuesNeverReachAnyFile() throws Exception {
    Path log = dir.resolve("audit.jsonl");
    try (FileAuditSink sink = FileAuditSink.builder(log).clock(clock).maxFileBytes(4096)
        .build()) {
      SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(PAYMENTS)))
          .clock(clock).auditSink(sink).build();

      s.execute(charge(100, "4111111111111111", "078-05-1120"), c -> "ok");
      s.execute(charge(9000, "4111111111111111", "078-05-1120"), c -> "ok");
      s.execute(charge(100, "4000000000000002", "078-05-1120"), c -> "ok"); // shadow verdict
      Execution held = s.run(charge(2000, "4111111111111111", "078-05-1120"), c -> "ok");
      String id = held.decision().approval().id();
      s.approvals().approve(id, "alice", "{\"amount\":1500,\"card_number\":\"5555555555554444\","
          + "\"customer\":{\"name\":\"Ann\",\"ssn\":\"078-05-1120\"}}");
      assertThat(s.runApproved(id, c -> "ok").decision().isAllowed()).isTrue();
      Execution other = s.run(charge(3000, "6011000990139424", "078-05-1120"), c -> "ok");
      s.approvals().deny(other.decision().approval().id(), "bob", "no");
      for (int i = 0; i < 50; i++) { // enough to rotate a few times
        s.execute(charge(100 + i, "4111111111111111", "078-05-1120"), c -> "ok");
      }
    }

    List<Path> files = AuditLog.files(List.of(dir));
    assertThat(files).hasSizeGreaterThan(2);
    for (Path f : files) {
      String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
      for (String secret : SECRETS) {
        assertThat(bytes).as("%s must not contain %s", f, secret).doesNotContain(secret);
      }
    }
    List<AuditEvent> events;
    try (Stream<AuditLog.Entry> st = AuditLog.read(files)) {
      events = st.filter(e -> e.event() != null).map(AuditLog.Entry::event).toList();
    }
    assertThat(events).extracting(AuditEvent::type).contains(AuditEvent.Type.ALLOWED,
        AuditEvent.Type.DENIED, AuditEvent.Type.HELD, AuditEvent.Type.APPROVED,
        AuditEvent.Type.APPROVAL_DENIED, AuditEvent.Type.EXECUTED);
    assertThat(events.get(0).arguments()).isEqualTo("{\"amount\":100,\"card_number\":\"***\","
        + "\"customer\":{\"name\":\"Ann\",\"ssn\":\"***\"}}");
    assertThat(events).filteredOn(e -> e.shadow() != null).isNotEmpty();
    assertThat(AuditLog.verify(files).intact()).isTrue();
  }

  /** A real log behind a disk that blocks in its first write until released. */
  private static final class StuckDisk implements SinkWriter.Target {
    final LogWriter log;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    StuckDisk(Path file, ManualClock clock) throws IOException {
      this.log = LogWriter.open(new LogWriter.Options(file, ChainHash.sha256(),
          FsyncPolicy.NEVER, 0, 0, clock, false));
    }

    @Override
    public void append(List<AuditEvent> events) throws IOException {
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
      log.append(events);
    }

    @Override
    public void gap(long dropped, long rejected) throws IOException {
      log.gap(dropped, rejected);
    }

    @Override
    public void batchDone() throws IOException {
      log.batchDone();
    }

    @Override
    public void sync() throws IOException {
      log.sync();
    }

    @Override
    public String head() {
      return log.head();
    }

    @Override
    public void close() throws IOException {
      log.close();
    }
  }

  private FileAuditSink stuckSink(StuckDisk disk, AuditSink.FailurePolicy policy) {
    return new FileAuditSink(new AsyncWriter(disk, 2, 16, policy, clock, "audit.jsonl"),
        dir.resolve("audit.jsonl"));
  }

  private SafeRun safeRun(FileAuditSink sink) {
    return SafeRun.builder().policies(PolicySet.of(Fixtures.policy(PAYMENTS))).clock(clock)
        .auditSink(sink).build();
  }

  @Test
  void aFullQueueSlowsTheCallDownInsteadOfDenyingIt() throws Exception {
    StuckDisk disk = new StuckDisk(dir.resolve("audit.jsonl"), clock);
    AsyncWriter writer = new AsyncWriter(disk, 2, 16, 1000, AuditSink.FailurePolicy.FAIL_CLOSED,
        clock, "audit.jsonl");
    FileAuditSink sink = new FileAuditSink(writer, dir.resolve("audit.jsonl"));
    SafeRun s = safeRun(sink);
    s.evaluate(charge(1, "4111111111111111", "x"));
    assertThat(disk.entered.await(10, TimeUnit.SECONDS)).isTrue();
    s.evaluate(charge(2, "4111111111111111", "x"));
    s.evaluate(charge(3, "4111111111111111", "x"));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Decision> fourth = pool.submit(() -> s.evaluate(charge(4, "4111111111111111", "x")));
      while (writer.waiting() == 0 && !fourth.isDone()) {
        Thread.onSpinWait();
      }
      assertThat(fourth.isDone()).isFalse(); // waiting for room, not denied

      disk.release.countDown();

      assertThat(fourth.get(10, TimeUnit.SECONDS).isAllowed()).isTrue();
    } finally {
      pool.shutdownNow();
    }
    sink.close();
    assertThat(sink.rejected()).isZero();
    Verification v = AuditLog.verify(List.of(dir));
    assertThat(v.intact()).isTrue();
    assertThat(v.events()).isEqualTo(4);
    assertThat(v.notes()).isEmpty();
  }

  @Test
  void aFullQueueDeniesTheCallUnderFailClosed() throws Exception {
    StuckDisk disk = new StuckDisk(dir.resolve("audit.jsonl"), clock);
    FileAuditSink sink = stuckSink(disk, AuditSink.FailurePolicy.FAIL_CLOSED);
    SafeRun s = safeRun(sink);
    assertThat(s.evaluate(charge(1, "4111111111111111", "x")).isAllowed()).isTrue();
    assertThat(disk.entered.await(10, TimeUnit.SECONDS)).isTrue();
    s.evaluate(charge(2, "4111111111111111", "x"));
    s.evaluate(charge(3, "4111111111111111", "x"));

    Decision d = s.evaluate(charge(4, "4111111111111111", "x"));

    assertThat(d.isDenied()).isTrue();
    assertThat(d.message()).startsWith("Audit failed: ")
        .contains("audit queue of audit.jsonl is full (2 events)");
    assertThat(sink.rejected()).isEqualTo(1);
    disk.release.countDown();
    sink.close();
    Verification v = AuditLog.verify(List.of(dir));
    assertThat(v.intact()).isTrue();
    assertThat(v.events()).isEqualTo(3);
    assertThat(v.notes()).singleElement().asString()
        .contains("gap: 1 event(s) refused (FAIL_CLOSED: their calls were denied)");
  }

  @Test
  void aFullQueueDropsLoudlyUnderLogAndContinueAndTheCallProceeds() throws Exception {
    StuckDisk disk = new StuckDisk(dir.resolve("audit.jsonl"), clock);
    FileAuditSink sink = stuckSink(disk, AuditSink.FailurePolicy.LOG_AND_CONTINUE);
    SafeRun s = safeRun(sink);
    s.evaluate(charge(1, "4111111111111111", "x"));
    assertThat(disk.entered.await(10, TimeUnit.SECONDS)).isTrue();
    s.evaluate(charge(2, "4111111111111111", "x"));
    s.evaluate(charge(3, "4111111111111111", "x"));

    Decision d = s.evaluate(charge(4, "4111111111111111", "x"));

    assertThat(d.isAllowed()).isTrue();
    assertThat(sink.dropped()).isEqualTo(1);
    disk.release.countDown();
    sink.close();
    Verification v = AuditLog.verify(List.of(dir));
    assertThat(v.intact()).isTrue();
    assertThat(v.events()).isEqualTo(3);
    assertThat(v.notes()).singleElement().asString()
        .contains("gap: 1 event(s) dropped (LOG_AND_CONTINUE: their calls went on unrecorded)");
  }
}
