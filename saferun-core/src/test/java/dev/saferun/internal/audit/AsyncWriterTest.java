package dev.saferun.internal.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.ManualClock;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditException;
import dev.saferun.audit.AuditSink.FailurePolicy;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The bounded queue: a slow disk never blocks record(); a full queue follows the policy. */
@Timeout(30)
class AsyncWriterTest {
  private final ManualClock clock = new ManualClock();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /** A disk that blocks in its first write until released. */
  static final class SlowDisk implements SinkWriter.Target {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    volatile IOException failWith;

    @Override
    public void append(List<AuditEvent> events) throws IOException {
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
      if (failWith != null) {
        throw failWith;
      }
      events.forEach(e -> calls.add("event " + e.sequence()));
    }

    @Override
    public void gap(long dropped, long rejected) {
      calls.add("gap dropped=" + dropped + " rejected=" + rejected);
    }

    @Override
    public void batchDone() {
      calls.add("batch");
    }

    @Override
    public void sync() {
      calls.add("sync");
    }

    @Override
    public String head() {
      return null;
    }

    @Override
    public void close() {
      calls.add("close");
    }

    List<String> events() {
      return calls.stream().filter(c -> !c.equals("batch")).toList();
    }
  }

  private static AuditEvent event(long seq) {
    return new AuditEvent(Instant.EPOCH, seq, AuditEvent.Type.ALLOWED, "t", CallContext.empty(),
        "{}", null, null, null, null, "Allowed", null, 0, null, null, 0, null);
  }

  /** Fills the queue behind a writer stuck in its first write (event 1). */
  private AsyncWriter stuck(SlowDisk disk, FailurePolicy policy) throws InterruptedException {
    AsyncWriter w = new AsyncWriter(disk, 2, 16, policy, clock, "test.jsonl");
    w.record(event(1));
    assertThat(disk.entered.await(10, TimeUnit.SECONDS)).isTrue();
    w.record(event(2));
    w.record(event(3));
    assertThat(w.queued()).isEqualTo(2);
    return w;
  }

  @Test
  void aFullQueueUnderFailClosedThrowsAtOnceAndTheLogRecordsTheRefusal() throws Exception {
    SlowDisk disk = new SlowDisk();
    AsyncWriter w = stuck(disk, FailurePolicy.FAIL_CLOSED);

    assertThatThrownBy(() -> w.record(event(4))).isInstanceOf(AuditException.class)
        .hasMessage("audit queue of test.jsonl is full (2 events): the audit writer is behind");
    assertThat(w.rejected()).isEqualTo(1);
    assertThat(w.dropped()).isZero();

    disk.release.countDown();
    w.flush();
    w.record(event(5));
    w.close();
    // The gap record follows the batch during which the event was refused.
    assertThat(disk.events()).containsExactly("event 1", "gap dropped=0 rejected=1", "event 2",
        "event 3", "sync", "event 5", "close");
  }

  @Test
  void aFullQueueUnderLogAndContinueCountsTheDropAndTheLogRecordsTheGap() throws Exception {
    SlowDisk disk = new SlowDisk();
    AsyncWriter w = stuck(disk, FailurePolicy.LOG_AND_CONTINUE);

    w.record(event(4));
    w.record(event(5));
    assertThat(w.dropped()).isEqualTo(2);
    assertThat(w.rejected()).isZero();

    disk.release.countDown();
    w.close();
    assertThat(disk.events()).containsExactly("event 1", "gap dropped=2 rejected=0", "event 2",
        "event 3", "close");
  }

  @Test
  void recordNeverWaitsForTheDisk() throws Exception {
    SlowDisk disk = new SlowDisk();
    AsyncWriter w = new AsyncWriter(disk, 100, 16, FailurePolicy.FAIL_CLOSED, clock, "t.jsonl");
    w.record(event(1));
    assertThat(disk.entered.await(10, TimeUnit.SECONDS)).isTrue();

    // The disk is stuck; 100 more calls from another thread all return.
    Future<?> calls = pool.submit(() -> {
      for (int i = 2; i <= 101; i++) {
        w.record(event(i));
      }
    });
    calls.get(10, TimeUnit.SECONDS);
    assertThat(w.queued()).isEqualTo(100);
    disk.release.countDown();
    w.close();
    assertThat(disk.events()).hasSize(102).last().isEqualTo("close");
  }

  @Test
  void flushWaitsForEverythingAcceptedBeforeIt() throws Exception {
    SlowDisk disk = new SlowDisk();
    AsyncWriter w = stuck(disk, FailurePolicy.FAIL_CLOSED);
    Future<?> flushed = pool.submit(() -> {
      w.flush();
      return null;
    });
    assertThat(flushed.isDone()).isFalse();

    disk.release.countDown();
    flushed.get(10, TimeUnit.SECONDS);
    assertThat(disk.events()).containsExactly("event 1", "event 2", "event 3", "sync");
    w.close();
  }

  @Test
  void closeDrainsTheQueueAndLaterRecordsFailPerThePolicy() throws Exception {
    SlowDisk disk = new SlowDisk();
    AsyncWriter w = stuck(disk, FailurePolicy.FAIL_CLOSED);
    Future<?> closed = pool.submit(() -> {
      w.close();
      return null;
    });
    disk.release.countDown();
    closed.get(10, TimeUnit.SECONDS);

    assertThat(disk.events()).containsExactly("event 1", "event 2", "event 3", "close");
    assertThatThrownBy(() -> w.record(event(9))).isInstanceOf(AuditException.class)
        .hasMessage("the audit sink test.jsonl is closed");
  }

  @Test
  void aFailedDiskRefusesEveryLaterEventAndFlushAndCloseReportIt() throws Exception {
    SlowDisk disk = new SlowDisk();
    disk.failWith = new IOException("No space left on device");
    AsyncWriter w = stuck(disk, FailurePolicy.FAIL_CLOSED);
    disk.release.countDown();

    assertThatThrownBy(w::flush).isInstanceOf(IOException.class)
        .hasRootCauseMessage("No space left on device");
    assertThatThrownBy(() -> w.record(event(4))).isInstanceOf(AuditException.class)
        .hasMessageContaining("failed earlier: java.io.IOException: No space left on device");
    assertThatThrownBy(w::close).isInstanceOf(IOException.class)
        .hasMessageContaining("events were lost");
  }

  // ------------------------------------------------------------ backpressure: waiting for room

  /** Like {@link #stuck}, but producers wait up to 1 s (on the manual clock) for room. */
  private AsyncWriter stuckWaiting(SlowDisk disk) throws InterruptedException {
    AsyncWriter w = new AsyncWriter(disk, 2, 16, 1000, FailurePolicy.FAIL_CLOSED, clock,
        "test.jsonl");
    w.record(event(1));
    assertThat(disk.entered.await(10, TimeUnit.SECONDS)).isTrue();
    w.record(event(2));
    w.record(event(3));
    return w;
  }

  /** Records event {@code seq} on another thread and returns once it waits for room. */
  private Future<?> blockedRecord(AsyncWriter w, long seq) throws InterruptedException {
    int before = w.waiting();
    Future<?> f = pool.submit(() -> w.record(event(seq)));
    while (w.waiting() == before && !f.isDone()) {
      Thread.onSpinWait();
    }
    assertThat(f.isDone()).as("record() returned instead of waiting").isFalse();
    return f;
  }

  private static Throwable failureOf(Future<?> f) throws Exception {
    try {
      f.get(10, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  @Test
  void producersBlockedOnAFullQueueResumeWhenTheWriterDrains() throws Exception {
    SlowDisk disk = new SlowDisk();
    AsyncWriter w = stuckWaiting(disk);
    Future<?> four = blockedRecord(w, 4);
    Future<?> five = blockedRecord(w, 5);

    disk.release.countDown();

    four.get(10, TimeUnit.SECONDS);
    five.get(10, TimeUnit.SECONDS);
    w.close();
    assertThat(w.rejected()).isZero();
    assertThat(disk.events()).hasSize(6).contains("event 4", "event 5").last().isEqualTo("close");
  }

  @Test
  void aWaitThatRunsOutOnTheClockRefusesUnderFailClosed() throws Exception {
    SlowDisk disk = new SlowDisk();
    AsyncWriter w = stuckWaiting(disk);
    Future<?> four = blockedRecord(w, 4);

    clock.advance(Duration.ofMillis(999));
    assertThat(four.isDone()).isFalse();
    clock.advance(Duration.ofMillis(1));

    assertThat(failureOf(four)).isInstanceOf(AuditException.class)
        .hasMessage("audit queue of test.jsonl is full (2 events, no room within 1000 ms): the"
            + " audit writer is behind");
    assertThat(w.rejected()).isEqualTo(1);
    disk.release.countDown();
    w.close();
    assertThat(disk.events()).containsExactly("event 1", "gap dropped=0 rejected=1", "event 2",
        "event 3", "close");
  }

  @Test
  void aWaitThatRunsOutUnderLogAndContinueDropsTheEventAndTheCallerGoesOn() throws Exception {
    SlowDisk disk = new SlowDisk();
    AsyncWriter w = new AsyncWriter(disk, 1, 16, 50, FailurePolicy.LOG_AND_CONTINUE, clock,
        "test.jsonl");
    w.record(event(1));
    assertThat(disk.entered.await(10, TimeUnit.SECONDS)).isTrue();
    w.record(event(2));
    Future<?> three = blockedRecord(w, 3);

    clock.advance(Duration.ofMillis(50));

    assertThat(failureOf(three)).isNull();
    assertThat(w.dropped()).isEqualTo(1);
    disk.release.countDown();
    w.close();
  }

  @Test
  void closeReleasesWaitingProducersAtOnce() throws Exception {
    SlowDisk disk = new SlowDisk();
    AsyncWriter w = stuckWaiting(disk);
    Future<?> four = blockedRecord(w, 4);

    Future<?> closed = pool.submit(() -> {
      w.close();
      return null;
    });

    // The disk is still stuck: the waiter is refused by the close, not by the clock.
    assertThat(failureOf(four)).isInstanceOf(AuditException.class)
        .hasMessage("the audit sink test.jsonl is closed");
    disk.release.countDown();
    closed.get(10, TimeUnit.SECONDS);
    // The refusal happened while the writer was still draining: the log marks it.
    assertThat(disk.events()).containsExactly("event 1", "gap dropped=0 rejected=1", "event 2",
        "event 3", "close");
  }

  @Test
  void aFailedWriterReleasesWaitingProducersAtOnce() throws Exception {
    SlowDisk disk = new SlowDisk();
    disk.failWith = new IOException("No space left on device");
    AsyncWriter w = stuckWaiting(disk);
    Future<?> four = blockedRecord(w, 4);

    disk.release.countDown();

    assertThat(failureOf(four)).isInstanceOf(AuditException.class)
        .hasMessageContaining("failed earlier: java.io.IOException: No space left on device");
    assertThatThrownBy(w::close).isInstanceOf(IOException.class);
  }

  @Test
  void noEventIsAcceptedAfterClose() throws Exception {
    SlowDisk disk = new SlowDisk();
    disk.release.countDown();
    AsyncWriter w = new AsyncWriter(disk, 16, 16, 1000, FailurePolicy.FAIL_CLOSED, clock,
        "test.jsonl");
    w.record(event(1));
    w.close();

    assertThatThrownBy(() -> w.record(event(2))).isInstanceOf(AuditException.class)
        .hasMessage("the audit sink test.jsonl is closed");
    assertThat(w.queued()).isZero();
    assertThat(disk.events()).containsExactly("event 1", "close");
  }

  /** Counts what reaches the disk; never blocks. */
  static final class CountingDisk implements SinkWriter.Target {
    final AtomicLong events = new AtomicLong();
    volatile boolean closed;
    volatile boolean appendedAfterClose;

    @Override
    public void append(List<AuditEvent> batch) {
      if (closed) {
        appendedAfterClose = true;
      }
      events.addAndGet(batch.size());
    }

    @Override
    public void gap(long dropped, long rejected) {}

    @Override
    public void batchDone() {}

    @Override
    public void sync() {}

    @Override
    public String head() {
      return null;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void concurrentProducersAndCloseNeverLoseAnAcceptedEvent() throws Exception {
    for (int round = 0; round < 20; round++) {
      CountingDisk disk = new CountingDisk();
      // A small queue, so producers also wait for room while close() comes.
      AsyncWriter w = new AsyncWriter(disk, 8, 4, 1000, FailurePolicy.FAIL_CLOSED, clock,
          "test.jsonl");
      int producers = 4;
      CountDownLatch started = new CountDownLatch(producers);
      List<Future<Long>> accepted = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        accepted.add(pool.submit(() -> {
          long n = 0;
          started.countDown();
          while (true) {
            try {
              w.record(event(n));
            } catch (AuditException closed) {
              return n;
            }
            n++;
          }
        }));
      }
      started.await();
      while (disk.events.get() < 1000 * (round + 1)) {
        Thread.onSpinWait();
      }

      w.close();

      long total = 0;
      for (Future<Long> f : accepted) {
        total += f.get(10, TimeUnit.SECONDS);
      }
      assertThat(disk.events.get()).as("round %d", round).isEqualTo(total);
      assertThat(disk.appendedAfterClose).isFalse();
      assertThat(w.rejected()).isEqualTo(producers); // one refusal each: the one after close
    }
  }
}
