package dev.saferun.springai;

import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;
import org.springframework.core.Ordered;

/**
 * Micrometer metrics fed from SafeRun's audit events. Add it to SafeRun's audit sinks (the
 * Spring Boot auto-configuration does, whenever a {@code MeterRegistry} bean exists):
 * <ul>
 *   <li>{@value #DECISIONS} (counter): one per decision, tagged {@code outcome}
 *       (allow/deny/hold), {@code tool}, {@code rule}, {@code policy} and {@code shadow} (the
 *       would-be outcome of shadow rules, or {@code none});</li>
 *   <li>{@value #LATENCY} (timer): how long each decision took, tagged {@code outcome} and
 *       {@code tool};</li>
 *   <li>{@value #APPROVALS} (counter): approval transitions, tagged {@code result}
 *       (approved/denied/expired), {@code tool} and {@code rule};</li>
 *   <li>{@value #EXECUTIONS} (counter): what allowed calls did, tagged {@code result}
 *       (executed/failed) and {@code tool}.</li>
 * </ul>
 * Tags never carry arguments or context values, so cardinality is bounded by the tools, rules
 * and policies the application has. It never throws, so it cannot deny a call.
 *
 * <p>Thread-safe.
 */
public final class SafeRunMetrics implements AuditSink, Ordered {
  /** Decision counter name. */
  public static final String DECISIONS = "saferun.decisions";
  /** Decision latency timer name. */
  public static final String LATENCY = "saferun.decision.latency";
  /** Approval transition counter name. */
  public static final String APPROVALS = "saferun.approvals";
  /** Tool outcome counter name. */
  public static final String EXECUTIONS = "saferun.executions";

  private static final String NONE = "none";

  private final Supplier<MeterRegistry> registrySupplier;
  private volatile MeterRegistry registry;

  /** Metrics on {@code registry}. */
  public SafeRunMetrics(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    this.registry = registry;
    this.registrySupplier = () -> registry;
  }

  /**
   * Metrics on the registry {@code registry} supplies when the first event arrives (for
   * containers that create the registry after SafeRun); nothing is recorded while it supplies
   * {@code null}.
   */
  public SafeRunMetrics(Supplier<MeterRegistry> registry) {
    this.registrySupplier = Objects.requireNonNull(registry, "registry");
  }

  @Override
  public boolean enabled() {
    return registry() != null;
  }

  @Override
  public void record(AuditEvent e) {
    MeterRegistry r = registry();
    if (r == null) {
      return;
    }
    try {
      switch (e.type()) {
        case ALLOWED, DENIED, HELD -> {
          String outcome = e.type() == AuditEvent.Type.ALLOWED ? "allow"
              : e.type() == AuditEvent.Type.DENIED ? "deny" : "hold";
          Counter.builder(DECISIONS)
              .description("SafeRun decisions on tool calls")
              .tag("outcome", outcome)
              .tag("tool", e.tool())
              .tag("rule", orNone(e.rule()))
              .tag("policy", orNone(e.policy()))
              .tag("shadow", e.shadow() == null ? NONE
                  : e.shadow().outcome().name().toLowerCase(Locale.ROOT))
              .register(r)
              .increment();
          Timer.builder(LATENCY)
              .description("Time SafeRun took to decide a tool call")
              .tag("outcome", outcome)
              .tag("tool", e.tool())
              .register(r)
              .record(Duration.ofNanos(Math.max(0L, e.decisionNanos())));
        }
        case APPROVED, APPROVAL_DENIED, EXPIRED -> Counter.builder(APPROVALS)
            .description("SafeRun approval decisions")
            .tag("result", e.type() == AuditEvent.Type.APPROVED ? "approved"
                : e.type() == AuditEvent.Type.EXPIRED ? "expired" : "denied")
            .tag("tool", e.tool())
            .tag("rule", orNone(e.rule()))
            .register(r)
            .increment();
        case EXECUTED, FAILED -> Counter.builder(EXECUTIONS)
            .description("Outcomes of tool calls SafeRun allowed")
            .tag("result", e.type() == AuditEvent.Type.EXECUTED ? "executed" : "failed")
            .tag("tool", e.tool())
            .register(r)
            .increment();
        default -> {
          // other event types carry no metric
        }
      }
    } catch (RuntimeException ex) {
      // Metrics must never deny a call (audit failures fail closed by default).
    }
  }

  /** First among SafeRun's audit sinks, so a failing sink after it cannot hide a decision. */
  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  private MeterRegistry registry() {
    MeterRegistry r = registry;
    if (r == null) {
      try {
        r = registrySupplier.get();
      } catch (RuntimeException e) {
        return null;
      }
      registry = r;
    }
    return r;
  }

  private static String orNone(String s) {
    return s == null || s.isEmpty() ? NONE : s;
  }
}
