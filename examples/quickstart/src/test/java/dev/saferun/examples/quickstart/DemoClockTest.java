package dev.saferun.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The demo's clock: time moves only when told, and scheduled tasks run then, in time order. */
class DemoClockTest {
  private final DemoClock clock = new DemoClock(Instant.parse("2026-01-15T10:30:00Z"));
  private final List<String> ran = new ArrayList<>();

  @Test
  void timeStandsStillUntilAdvanced() {
    long before = clock.wallMillis();

    clock.advance(Duration.ofSeconds(2));

    assertThat(clock.wallMillis() - before).isEqualTo(2_000);
    assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-15T10:30:02Z"));
  }

  @Test
  void scheduledTasksRunWhenTheClockReachesThemInTimeOrder() {
    long now = clock.wallMillis();
    clock.schedule(now + 20 * 60_000, () -> ran.add("20m"));
    clock.schedule(now + 15 * 60_000, () -> ran.add("15m"));

    clock.advance(Duration.ofMinutes(14));
    assertThat(ran).isEmpty();

    clock.advance(Duration.ofMinutes(10));
    assertThat(ran).containsExactly("15m", "20m");
  }

  @Test
  void aCancelledTaskNeverRuns() {
    Clock.Scheduled s = clock.schedule(clock.wallMillis() + 1_000, () -> ran.add("x"));

    s.cancel();
    clock.advance(Duration.ofMinutes(1));

    assertThat(ran).isEmpty();
  }

  @Test
  void timeDoesNotGoBack() {
    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
