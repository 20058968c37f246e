package dev.saferun.springai;

import dev.saferun.SafeRun;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.test.FakeClock;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/** Shared test setup: the support policy, a fake clock, recorded audit events and holds. */
final class Fixtures {
  final FakeClock clock = new FakeClock();
  final List<AuditEvent> events = new CopyOnWriteArrayList<>();
  final BlockingQueue<ApprovalRequest> holds = new LinkedBlockingQueue<>();
  final SafeRun safeRun;

  Fixtures() {
    this(policy("policies/support.yaml"));
  }

  Fixtures(PolicySet policies) {
    AuditSink sink = events::add;
    this.safeRun = SafeRun.builder().policies(policies).clock(clock).auditSink(sink)
        .onPause(holds::add).build();
  }

  static String resource(String name) {
    try (InputStream in = Fixtures.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static PolicySet policy(String resourceName) {
    return PolicySet.of(PolicyLoader.loadString(resource(resourceName), resourceName));
  }

  /** The support policy with another approvals mode ({@code wait} or {@code defer}). */
  static PolicySet supportPolicyWithApprovalMode(String mode) {
    String yaml = resource("policies/support.yaml").replace("mode: defer", "mode: " + mode);
    return PolicySet.of(PolicyLoader.loadString(yaml, "support.yaml"));
  }

  List<AuditEvent> decisions() {
    return events.stream().filter(e -> e.type() == AuditEvent.Type.ALLOWED
        || e.type() == AuditEvent.Type.DENIED || e.type() == AuditEvent.Type.HELD).toList();
  }
}
