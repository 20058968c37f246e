package dev.saferun;

import dev.saferun.audit.AuditSink;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import java.util.ArrayList;
import java.util.List;

/** Small helpers shared by core tests. */
public final class Fixtures {
  private Fixtures() {}

  public static Policy policy(String yaml) {
    return PolicyLoader.loadString(yaml, "test.yaml");
  }

  public static SafeRun safeRun(ManualClock clock, String... yamls) {
    List<Policy> ps = new ArrayList<>();
    for (int i = 0; i < yamls.length; i++) {
      ps.add(PolicyLoader.loadString(yamls[i], "p" + i + ".yaml"));
    }
    return SafeRun.builder().policies(PolicySet.of(ps)).clock(clock).auditSink(AuditSink.NONE)
        .trace(true).build();
  }

  public static Decision call(SafeRun s, String tool, String args) {
    return s.evaluate(ToolCall.of(tool, args));
  }

  public static Decision call(SafeRun s, String tool, String args, CallContext ctx) {
    return s.evaluate(ToolCall.of(tool, args, ctx));
  }
}
