package dev.saferun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.audit.AuditException;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Regression (issue 10): a failing audit sink refuses every call, and SafeRun used to log an
 * ERROR with a stack trace for each one (57,045 lines in one benchmark run). Now: the first with
 * its stack trace, then at most one line a second on the injected clock, with a count.
 */
class AuditFailureLogTest {
  private static final String POLICY = "version: \"1\"\ntools:\n  t:\n    rules:\n"
      + "      - name: small\n        conditions: [{path: args.n, op: lte, value: 10}]\n";
  private final ManualClock clock = new ManualClock();

  private SafeRun failingAudit(AuditSink.FailurePolicy policy) {
    AuditSink broken = e -> {
      throw new AuditException("audit queue of audit.jsonl is full");
    };
    return SafeRun.builder().policies(PolicySet.of(Fixtures.policy(POLICY))).clock(clock)
        .auditSink(broken).auditFailure(policy).build();
  }

  /** What SafeRun logged (slf4j-simple writes to System.err) while {@code r} ran. */
  private static List<String> logged(Runnable r) {
    PrintStream original = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setErr(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setErr(original);
    }
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private static List<String> logLines(List<String> output) {
    return output.stream().filter(l -> l.contains(" dev.saferun.SafeRun - ")).toList();
  }

  private static long stackFrames(List<String> output) {
    return output.stream().filter(l -> l.startsWith("\tat ")).count();
  }

  @Test
  void tenThousandRefusalsInOneSecondLogOneLineWithOneStackTrace() {
    SafeRun s = failingAudit(AuditSink.FailurePolicy.FAIL_CLOSED);
    ToolCall call = ToolCall.of("t", "{\"n\":1}");

    List<String> first = logged(() -> {
      for (int i = 0; i < 10_000; i++) {
        assertThat(s.evaluate(call).isDenied()).isTrue();
      }
      clock.advance(Duration.ofMillis(999));
      s.evaluate(call);
    });

    assertThat(logLines(first)).singleElement().asString()
        .contains("ERROR dev.saferun.SafeRun - Audit failed for tool t; the call is denied (fail"
            + " closed) (further audit failures are logged at most once a second");
    assertThat(stackFrames(first)).isPositive();

    clock.advance(Duration.ofMillis(1));
    List<String> second = logged(() -> {
      for (int i = 0; i < 10_000; i++) {
        s.evaluate(call);
      }
    });

    assertThat(logLines(second)).singleElement().asString()
        .contains("Audit failed for tool t; the call is denied (fail closed):"
            + " dev.saferun.audit.AuditException: audit queue of audit.jsonl is full; 10000 more"
            + " audit failure(s) since the previous line, not logged");
    assertThat(stackFrames(second)).isZero();

    // a quiet minute later, a failure (a new outage) gets its stack trace again, and the line
    // still counts the failures of the second batch that were not logged
    clock.advance(Duration.ofMinutes(1));
    List<String> later = logged(() -> s.evaluate(call));
    assertThat(logLines(later)).singleElement().asString()
        .contains("Audit failed for tool t; the call is denied (fail closed); 9999 more audit"
            + " failure(s) since the previous line, not logged (further audit failures are"
            + " logged at most once a second");
    assertThat(stackFrames(later)).isPositive();
  }

  @Test
  void underLogAndContinueTheCallsProceedAndTheWarningsAreThrottledTheSameWay() {
    SafeRun s = failingAudit(AuditSink.FailurePolicy.LOG_AND_CONTINUE);
    ToolCall call = ToolCall.of("t", "{\"n\":1}");

    List<String> out = logged(() -> {
      for (int i = 0; i < 10_000; i++) {
        assertThat(s.evaluate(call).isAllowed()).isTrue();
      }
    });

    assertThat(logLines(out)).singleElement().asString()
        .contains("WARN dev.saferun.SafeRun - Audit failed for tool t; continuing as configured");
  }
}
