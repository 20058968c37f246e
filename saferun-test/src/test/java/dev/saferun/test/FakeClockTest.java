package dev.saferun.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FakeClockTest {

  @Test
  void startsAtTheDefaultInstant() {
    FakeClock clock = new FakeClock();

    assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    assertThat(clock.wallMillis()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z").toEpochMilli());
  }

  @Test
  void startsAtAGivenInstant() {
    FakeClock clock = FakeClock.at("2026-01-15T10:30:00Z");

    assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-15T10:30:00Z"));
  }

  @Test
  void advanceMovesWallAndMonotonicTimeTogether() {
    FakeClock clock = new FakeClock();
    long mono = clock.monotonicNanos();

    clock.advance(Duration.ofMillis(1500));

    assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:00:01.500Z"));
    assertThat(clock.monotonicNanos() - mono).isEqualTo(1_500_000_000L);
  }

  @Test
  void advanceByZeroChangesNothing() {
    FakeClock clock = new FakeClock();

    clock.advance(Duration.ZERO);

    assertThat(clock.instant()).isEqualTo(FakeClock.DEFAULT_START);
    assertThat(clock.monotonicNanos()).isZero();
  }

  @Test
  void negativeAdvanceIsRefused() {
    FakeClock clock = new FakeClock();

    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("only advances");
    assertThat(clock.instant()).isEqualTo(FakeClock.DEFAULT_START);
  }

  @Test
  void setForwardMovesMonotonicTimeByTheSameAmount() {
    FakeClock clock = new FakeClock();

    clock.set(Instant.parse("2026-01-01T00:01:00Z"));

    assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:01:00Z"));
    assertThat(clock.monotonicNanos()).isEqualTo(TimeUnit.MINUTES.toNanos(1));
  }

  @Test
  void setBackwardMovesWallTimeButNeverMonotonicTime() {
    FakeClock clock = new FakeClock();
    clock.advance(Duration.ofMinutes(5));

    clock.set(Instant.parse("2025-12-31T00:00:00Z"));

    assertThat(clock.instant()).isEqualTo(Instant.parse("2025-12-31T00:00:00Z"));
    assertThat(clock.monotonicNanos()).isEqualTo(TimeUnit.MINUTES.toNanos(5));
  }

  @Test
  void wallMillisTruncatesSubMillisecondTime() {
    FakeClock clock = new FakeClock();

    clock.advance(Duration.ofNanos(999_999));

    assertThat(clock.wallMillis()).isEqualTo(FakeClock.DEFAULT_START.toEpochMilli());
    assertThat(clock.monotonicNanos()).isEqualTo(999_999L);
  }

  @Test
  void concurrentAdvancesAreNeverLost() throws Exception {
    FakeClock clock = new FakeClock();
    int threads = 8;
    int perThread = 10_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < perThread; i++) {
            clock.advance(Duration.ofMillis(1));
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    long total = (long) threads * perThread;
    assertThat(clock.wallMillis() - FakeClock.DEFAULT_START.toEpochMilli()).isEqualTo(total);
    assertThat(clock.monotonicNanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(total));
  }

  @Test
  void scheduledTasksRunWhenTheClockReachesTheirTimeInTimeOrder() {
    FakeClock clock = new FakeClock();
    long start = clock.wallMillis();
    List<String> ran = new ArrayList<>();
    clock.schedule(start + 2000, () -> ran.add("b"));
    clock.schedule(start + 1000, () -> ran.add("a"));
    clock.schedule(start + 3000, () -> ran.add("c"));

    clock.advance(Duration.ofMillis(999));
    assertThat(ran).isEmpty();

    clock.advance(Duration.ofMillis(1001));
    assertThat(ran).containsExactly("a", "b");
    assertThat(clock.pendingTasks()).isEqualTo(1);

    clock.set(Instant.ofEpochMilli(start + 3000));
    assertThat(ran).containsExactly("a", "b", "c");
    assertThat(clock.pendingTasks()).isZero();
  }

  @Test
  void aCancelledTaskNeverRuns() {
    FakeClock clock = new FakeClock();
    List<String> ran = new ArrayList<>();
    dev.saferun.Clock.Scheduled handle = clock.schedule(clock.wallMillis() + 10, () -> ran.add("x"));

    handle.cancel();
    clock.advance(Duration.ofSeconds(1));

    assertThat(ran).isEmpty();
    assertThat(clock.pendingTasks()).isZero();
  }

  @Test
  void aTaskAlreadyDueRunsAtTheNextMoveNotInsideSchedule() {
    FakeClock clock = new FakeClock();
    List<String> ran = new ArrayList<>();

    clock.schedule(clock.wallMillis() - 1, () -> ran.add("late"));
    assertThat(ran).isEmpty();

    clock.advance(Duration.ZERO);
    assertThat(ran).containsExactly("late");
  }

  @Test
  void movingTheClockBackwardsRunsNothing() {
    FakeClock clock = new FakeClock();
    List<String> ran = new ArrayList<>();
    clock.schedule(clock.wallMillis() + 1, () -> ran.add("x"));

    clock.set(Instant.parse("2025-01-01T00:00:00Z"));

    assertThat(ran).isEmpty();
    assertThat(clock.pendingTasks()).isEqualTo(1);
  }

  @Test
  void aTaskMayScheduleAnotherThatIsAlreadyDue() {
    FakeClock clock = new FakeClock();
    List<String> ran = new ArrayList<>();
    long t = clock.wallMillis() + 100;
    clock.schedule(t, () -> {
      ran.add("first");
      clock.schedule(t, () -> ran.add("second"));
    });

    clock.advance(Duration.ofSeconds(1));

    assertThat(ran).containsExactly("first", "second");
  }

  @Test
  void aFailingTaskDoesNotStopTheOthersAndItsExceptionSurfaces() {
    FakeClock clock = new FakeClock();
    List<String> ran = new ArrayList<>();
    clock.schedule(clock.wallMillis() + 1, () -> {
      throw new IllegalStateException("boom");
    });
    clock.schedule(clock.wallMillis() + 2, () -> ran.add("after"));

    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class).hasMessage("boom");
    assertThat(ran).containsExactly("after");
    assertThat(clock.instant()).isEqualTo(FakeClock.DEFAULT_START.plusSeconds(1));
  }

  @Test
  void eachTaskRunsOnceWhenManyThreadsMoveTheClock() throws Exception {
    FakeClock clock = new FakeClock();
    int taskCount = 1000;
    java.util.concurrent.atomic.AtomicIntegerArray runs =
        new java.util.concurrent.atomic.AtomicIntegerArray(taskCount);
    for (int i = 0; i < taskCount; i++) {
      int index = i;
      clock.schedule(clock.wallMillis() + i, () -> runs.incrementAndGet(index));
    }
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < taskCount; i++) {
            clock.advance(Duration.ofMillis(1));
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    for (int i = 0; i < taskCount; i++) {
      assertThat(runs.get(i)).as("task %d", i).isEqualTo(1);
    }
    assertThat(clock.pendingTasks()).isZero();
  }
}
