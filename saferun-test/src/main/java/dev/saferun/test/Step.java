package dev.saferun.test;

import dev.saferun.CallContext;
import dev.saferun.policy.SourceLocation;
import java.time.Duration;
import java.util.List;

/** One entry of a test file's {@code cases:} list, in file order. */
sealed interface Step permits Step.Call, Step.Visible, Step.Advance {

  /**
   * A tool call ({@code call:}), made {@code repeat} times, each checked against {@code expect}.
   *
   * @param info the case's name and location
   * @param tool the tool
   * @param arguments the arguments as JSON text, or {@code null} for none
   * @param context the default context with the case's context merged over it
   * @param repeat how many identical calls to make
   * @param expect what each call must decide
   * @param approval the approval step, or {@code null}
   */
  record Call(PolicyTestFile.Case info, String tool, String arguments, CallContext context,
      int repeat, Expectation expect, Approval approval) implements Step {}

  /**
   * What the model sees ({@code tools:} and {@code expect_visible:}).
   *
   * @param info the case's name and location
   * @param tools the tools offered
   * @param context the context
   * @param expected the tools expected to remain visible, in order
   */
  record Visible(PolicyTestFile.Case info, List<String> tools, CallContext context,
      List<String> expected) implements Step {}

  /**
   * Moves the clock ({@code advance:}); not a case.
   *
   * @param amount how far
   * @param location where the step is written
   */
  record Advance(Duration amount, SourceLocation location) implements Step {}

  /**
   * An {@code approval:} step: what a human does with a held call (see {@link TestRunner}).
   *
   * @param kind approve, deny or timeout
   * @param arguments edited arguments as JSON text (approve only), or {@code null}
   * @param by the approver's identity, or {@code null}
   */
  record Approval(Kind kind, String arguments, String by) {
    /** What the approver does. */
    enum Kind { APPROVE, DENY, TIMEOUT }
  }
}
