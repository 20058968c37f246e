package dev.saferun.springai;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.test.FakeClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The Micrometer audit sink on its own. */
class SafeRunMetricsTest {
  private final MeterRegistry meters = new SimpleMeterRegistry();
  private final SafeRun safeRun = SafeRun.builder()
      .policies(Fixtures.policy("policies/support.yaml"))
      .clock(new FakeClock())
      .auditSink(new SafeRunMetrics(meters))
      .build();

  @Test
  void holdsAndApprovalsAreCounted() {
    Decision held = safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\":150}",
        CallContext.of("user", "u1")));
    safeRun.approvals().approve(held.approval().id(), "alice");

    assertThat(meters.get(SafeRunMetrics.DECISIONS).tag("outcome", "hold")
        .tag("rule", "large refund needs approval").counter().count()).isEqualTo(1.0);
    assertThat(meters.get(SafeRunMetrics.APPROVALS).tag("result", "approved")
        .tag("tool", "create_refund").counter().count()).isEqualTo(1.0);
  }

  @Test
  void aRegistryThatIsNotThereYetRecordsNothingAndNeverDeniesACall() {
    AtomicReference<MeterRegistry> later = new AtomicReference<>();
    SafeRunMetrics metrics = new SafeRunMetrics(later::get);
    SafeRun s = SafeRun.builder().policies(Fixtures.policy("policies/support.yaml"))
        .auditSink(AuditSink.composite(metrics)).build();

    assertThat(metrics.enabled()).isFalse();
    assertThat(s.evaluate(ToolCall.of("get_customer", "{}")).isAllowed()).isTrue();

    later.set(meters);
    assertThat(s.evaluate(ToolCall.of("get_customer", "{}")).isAllowed()).isTrue();
    assertThat(meters.get(SafeRunMetrics.DECISIONS).tag("outcome", "allow").counter().count())
        .isEqualTo(1.0);
  }
}
