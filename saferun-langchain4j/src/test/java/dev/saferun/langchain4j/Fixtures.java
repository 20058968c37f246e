package dev.saferun.langchain4j;

import dev.saferun.SafeRun;
import dev.saferun.approval.OnPause;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.test.FakeClock;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A SafeRun on a fake clock with a recording audit sink, over policies from test resources. */
final class Fixtures {
  final FakeClock clock = new FakeClock();
  final RecordingAuditSink audit = new RecordingAuditSink();
  final SafeRun safeRun;

  Fixtures(String... policies) {
    this(OnPause.NONE, policies);
  }

  Fixtures(OnPause onPause, String... policies) {
    this.safeRun = SafeRun.builder()
        .policies(PolicySet.of(Arrays.stream(policies).map(Fixtures::policy).toList()))
        .clock(clock)
        .auditSink(audit)
        .onPause(onPause)
        .build();
  }

  static Policy policy(String resource) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/policies/" + resource)) {
      if (in == null) {
        throw new IllegalArgumentException("no test policy " + resource);
      }
      return PolicyLoader.loadString(new String(in.readAllBytes(), StandardCharsets.UTF_8),
          resource);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
