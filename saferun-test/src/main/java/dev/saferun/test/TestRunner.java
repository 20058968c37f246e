package dev.saferun.test;

import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import java.util.ArrayList;
import java.util.List;

/** Runs one test file's steps in order against one SafeRun on a fresh {@link FakeClock}. */
final class TestRunner {
  static final String APPROVAL_NOT_SUPPORTED = "approval steps are not supported yet";

  private final PolicyTestFile file;

  TestRunner(PolicyTestFile file) {
    this.file = file;
  }

  FileResult run() {
    FakeClock clock = new FakeClock(file.start());
    SafeRun safeRun = SafeRun.builder()
        .policies(file.policies())
        .clock(clock)
        .prices(file.prices())
        .auditSink(AuditSink.NONE)
        .trace(true)
        .build();
    List<CaseResult> results = new ArrayList<>();
    for (Step step : file.steps()) {
      if (step instanceof Step.Advance) {
        clock.advance(((Step.Advance) step).amount());
      } else if (step instanceof Step.Visible) {
        results.add(visible(safeRun, (Step.Visible) step));
      } else {
        results.add(call(safeRun, (Step.Call) step));
      }
    }
    return new FileResult(file.source(), results);
  }

  private CaseResult visible(SafeRun safeRun, Step.Visible v) {
    List<String> actual = safeRun.visibleTools(v.tools(), v.context());
    return new CaseResult(file.source(), v.info().name(), v.info().location(),
        actual.equals(v.expected()), "visible " + v.expected(), "visible " + actual, null, null);
  }

  private CaseResult call(SafeRun safeRun, Step.Call c) {
    Expectation expect = c.expect();
    if (c.approval() != null) {
      // Not run at all: a held call with no approval step would charge nothing either.
      return new CaseResult(file.source(), c.info().name(), c.info().location(), false,
          expect.describe(), "not run", APPROVAL_NOT_SUPPORTED
              + " (the case uses 'approval:'; remove it or wait for approval support)", null);
    }
    ToolCall call = ToolCall.of(c.tool(), c.arguments(), c.context());
    Decision shown = null;
    int firstFailure = 0;
    int failures = 0;
    for (int i = 1; i <= c.repeat(); i++) {
      Decision d = safeRun.evaluate(call);
      if (!expect.matches(d)) {
        failures++;
        if (firstFailure == 0) {
          firstFailure = i;
          shown = d;
        }
      } else if (firstFailure == 0) {
        shown = d;
      }
    }
    String detail = null;
    if (failures > 0 && c.repeat() > 1) {
      detail = "call " + firstFailure + " of " + c.repeat() + " is shown; " + failures + " of "
          + c.repeat() + " calls did not match";
    }
    return new CaseResult(file.source(), c.info().name(), c.info().location(), failures == 0,
        expect.describe(), expect.describeActual(shown), detail, shown);
  }
}
