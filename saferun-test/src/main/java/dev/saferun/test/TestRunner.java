package dev.saferun.test;

import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.Execution;
import dev.saferun.ToolCall;
import dev.saferun.approval.ApprovalException;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.audit.AuditSink;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one test file's steps in order against one SafeRun on a fresh {@link FakeClock}. A case
 * with an {@code approval:} step evaluates the call, which must be held; approves it (optionally
 * with edited arguments, by {@code by} or {@link PolicyTester#DEFAULT_APPROVER}), denies it, or
 * moves the clock to the request's expiry so the expiry task fires; and checks {@code expect}
 * against the final decision, {@code safeRun.resume(id).decision()}.
 */
final class TestRunner {
  private static final String NOT_HELD = "the call was not held";
  private final PolicyTestFile file;
  private final AuditSink audit;

  TestRunner(PolicyTestFile file) {
    this(file, AuditSink.NONE);
  }

  TestRunner(PolicyTestFile file, AuditSink audit) {
    this.file = file;
    this.audit = audit;
  }

  FileResult run() {
    FakeClock clock = new FakeClock(file.start());
    SafeRun safeRun = SafeRun.builder()
        .policies(file.policies())
        .clock(clock)
        .prices(file.prices())
        .auditSink(audit)
        .trace(true)
        .build();
    List<CaseResult> results = new ArrayList<>();
    for (Step step : file.steps()) {
      if (step instanceof Step.Advance) {
        clock.advance(((Step.Advance) step).amount());
      } else if (step instanceof Step.Visible) {
        results.add(visible(safeRun, (Step.Visible) step));
      } else {
        results.add(call(safeRun, clock, (Step.Call) step));
      }
    }
    return new FileResult(file.source(), results);
  }

  private CaseResult visible(SafeRun safeRun, Step.Visible v) {
    List<String> actual = safeRun.visibleTools(v.tools(), v.context());
    return new CaseResult(file.source(), v.info().name(), v.info().location(),
        actual.equals(v.expected()), "visible " + v.expected(), "visible " + actual, null, null);
  }

  private CaseResult call(SafeRun safeRun, FakeClock clock, Step.Call c) {
    Expectation expect = c.expect();
    ToolCall call = ToolCall.of(c.tool(), c.arguments(), c.context());
    Decision shown = null;
    String shownDetail = null;
    int firstFailure = 0;
    int failures = 0;
    for (int i = 1; i <= c.repeat(); i++) {
      Decision d = safeRun.evaluate(call);
      String detail = null;
      boolean ok;
      if (c.approval() == null) {
        ok = expect.matches(d);
      } else if (!d.isHeld() || d.approval() == null) {
        ok = false;
        detail = NOT_HELD + ", so there was nothing to " + verb(c.approval())
            + "; the decision shown is the call's own";
      } else {
        try {
          Resumed step = approve(safeRun, clock, d.approval(), c.approval());
          d = step.decision;
          detail = step.story;
          ok = expect.matches(d);
        } catch (ApprovalException e) {
          ok = false;
          detail = "the approval step was refused: " + e.getMessage()
              + "; the decision shown is the hold";
        }
      }
      if (!ok) {
        failures++;
        if (firstFailure == 0) {
          firstFailure = i;
          shown = d;
          shownDetail = detail;
        }
      } else if (firstFailure == 0) {
        shown = d;
        shownDetail = detail;
      }
    }
    List<String> details = new ArrayList<>();
    if (failures > 0 && c.repeat() > 1) {
      details.add("call " + firstFailure + " of " + c.repeat() + " is shown; " + failures + " of "
          + c.repeat() + " calls did not match");
    }
    if (failures > 0 && shownDetail != null) {
      details.add(shownDetail);
    }
    String actual = expect.describeActual(shown);
    if (shownDetail != null && shownDetail.startsWith(NOT_HELD)) {
      actual += " (not held)";
    }
    return new CaseResult(file.source(), c.info().name(), c.info().location(), failures == 0,
        expect.describe(), actual, details.isEmpty() ? null : String.join("\n", details),
        shown);
  }

  /** The final decision after an approval step, and what the step did, for failure reports. */
  private static final class Resumed {
    final Decision decision;
    final String story;

    Resumed(Decision decision, String story) {
      this.decision = decision;
      this.story = story;
    }
  }

  /**
   * Acts on a held call's request as the step says, then resumes it: the final decision is
   * {@code safeRun.resume(id).decision()}, as a host that runs tools itself would get it.
   */
  private static Resumed approve(SafeRun safeRun, FakeClock clock, ApprovalRequest q,
      Step.Approval a) {
    String by = a.by() == null ? PolicyTester.DEFAULT_APPROVER : a.by();
    String story = "held by rule " + Expectation.quote(q.rule()) + " (" + q.id() + "), then ";
    switch (a.kind()) {
      case APPROVE:
        if (a.arguments() == null) {
          safeRun.approvals().approve(q.id(), by);
          story += "approved by " + by;
        } else {
          safeRun.approvals().approve(q.id(), by, a.arguments());
          story += "approved by " + by + " with arguments " + a.arguments();
        }
        break;
      case DENY:
        safeRun.approvals().deny(q.id(), by, null);
        story += "denied by " + by;
        break;
      default:
        if (clock.instant().isBefore(q.expiresAt())) {
          clock.set(q.expiresAt());
        }
        story += "left to expire at " + q.expiresAt();
        break;
    }
    Execution e = safeRun.resume(q.id());
    return new Resumed(e.decision(), story + "; the final decision is shown");
  }

  private static String verb(Step.Approval a) {
    switch (a.kind()) {
      case APPROVE:
        return "approve";
      case DENY:
        return "deny";
      default:
        return "time out";
    }
  }
}
