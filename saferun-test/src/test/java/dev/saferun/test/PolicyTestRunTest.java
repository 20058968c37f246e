package dev.saferun.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.saferun.Decision.Outcome;
import dev.saferun.Decision.RuleResult;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Running test files: shared state across cases, expectations, and what a failure reports. */
class PolicyTestRunTest {
  static final String POLICY = """
      policy:
        version: "1"
        name: refunds
        tools:
          refund:
            rules:
              - name: cap
                conditions: [{path: args.amount, op: lte, value: 100}]
                on_deny: Too much
              - name: three a minute
                conditions: [{path: state.refund.n, op: lte, value: 3}]
                state: {counter: n, window: minute}
          wire:
            rules:
              - name: ask
                action: require_approval
          probe:
            rules:
              - name: no refunds yet
                conditions: [{path: state.refund.n, op: eq, value: 0}]
          watched:
            rules:
              - name: quiet
                mode: shadow
                action: deny
                conditions: [{path: args.loud, op: eq, value: true}]
                on_deny: Too loud
      """;

  @TempDir
  Path dir;

  FileResult run(String cases) {
    return PolicyTestFile.parse(POLICY + cases, "r.test.yaml", dir).run();
  }

  CaseResult only(String cases) {
    FileResult r = run(cases);
    assertThat(r.cases()).hasSize(1);
    return r.cases().get(0);
  }

  @Test
  void aMatchingCasePasses() {
    CaseResult r = only("cases: [{name: ok, call: refund, args: {amount: 5}, expect: allow}]");

    assertThat(r.passed()).isTrue();
    assertThat(r.name()).isEqualTo("ok");
    assertThat(r.file()).isEqualTo("r.test.yaml");
    assertThat(r.decision().outcome()).isEqualTo(Outcome.ALLOW);
  }

  @Test
  void aWrongDecisionFailsWithExpectedActualDecisionAndTrace() {
    CaseResult r = only("""
        cases:
          - name: big refund
            call: refund
            args: {amount: 500}
            expect: allow
        """);

    assertThat(r.passed()).isFalse();
    assertThat(r.expected()).isEqualTo("allow");
    assertThat(r.actual()).isEqualTo("deny");
    assertThat(r.location().line()).isEqualTo(29);
    assertThat(r.trace()).singleElement().satisfies(t -> {
      assertThat(t.rule()).isEqualTo("cap");
      assertThat(t.result()).isEqualTo(RuleResult.DENIED);
    });
    String version = r.decision().policyVersion().substring(0, 12);
    assertThat(r.report()).containsExactly(
        "expected: allow",
        "actual:   deny",
        "decision: deny, policy \"refunds\" (version " + version + "), rule \"cap\", message"
            + " \"Too much\"",
        "at r.test.yaml:29:5",
        "trace:",
        "  refunds / refund / \"cap\": DENIED - args.amount = 500 is not lte 100");
  }

  @Test
  void onlyTheFieldsAnExpectationNamesAreCompared() {
    FileResult r = run("""
        cases:
          - {name: rule only, call: refund, args: {amount: 500}, expect: {decision: deny, rule: cap}}
          - {name: exact message, call: refund, args: {amount: 500}, expect: {decision: deny, message: Too much}}
          - {name: contains, call: refund, args: {amount: 500}, expect: {decision: deny, message_contains: much}}
          - {name: policy, call: refund, args: {amount: 500}, expect: {decision: deny, policy: refunds}}
          - {name: no rule, call: refund, args: {amount: 1}, expect: {decision: allow, rule: null, policy: refunds}}
        """);

    assertThat(r.cases()).allSatisfy(c -> assertThat(c.passed()).as(c.name()).isTrue());
  }

  @Test
  void eachMismatchedFieldFailsTheCase() {
    FileResult r = run("""
        cases:
          - {name: wrong rule, call: refund, args: {amount: 500}, expect: {decision: deny, rule: other}}
          - {name: wrong message, call: refund, args: {amount: 500}, expect: {decision: deny, message: Too}}
          - {name: wrong substring, call: refund, args: {amount: 500}, expect: {decision: deny, message_contains: little}}
          - {name: wrong policy, call: refund, args: {amount: 500}, expect: {decision: deny, policy: other}}
          - {name: rule expected none, call: refund, args: {amount: 500}, expect: {decision: deny, rule: null}}
        """);

    assertThat(r.cases()).allSatisfy(c -> assertThat(c.passed()).as(c.name()).isFalse());
    assertThat(r.cases().get(0).expected()).isEqualTo("deny, rule \"other\"");
    assertThat(r.cases().get(0).actual()).isEqualTo("deny, rule \"cap\"");
    assertThat(r.cases().get(1).expected()).isEqualTo("deny, message \"Too\"");
    assertThat(r.cases().get(1).actual()).isEqualTo("deny, message \"Too much\"");
    assertThat(r.cases().get(4).expected()).isEqualTo("deny, no rule");
    assertThat(r.failed()).isEqualTo(5);
    assertThat(r.allPassed()).isFalse();
  }

  @Test
  void shadowExpectationsCompareTheShadowVerdict() {
    FileResult r = run("""
        cases:
          - {name: shadow deny, call: watched, args: {loud: true}, expect: {decision: allow, shadow: deny}}
          - {name: shadow details, call: watched, args: {loud: true}, expect: {decision: allow, shadow: {decision: deny, rule: quiet, message: Too loud}}}
          - {name: shadow allow, call: watched, args: {loud: false}, expect: {decision: allow, shadow: allow}}
          - {name: no shadow verdict, call: refund, args: {amount: 1}, expect: {decision: allow, shadow: none}}
          - {name: wrong shadow, call: watched, args: {loud: true}, expect: {decision: allow, shadow: allow}}
          - {name: missing shadow, call: probe, expect: {decision: deny, shadow: deny}}
          - {name: unexpected shadow, call: watched, expect: {decision: allow, shadow: null}}
        """);

    assertThat(r.cases()).extracting(CaseResult::passed)
        .containsExactly(true, true, true, true, false, false, false);
    assertThat(r.cases().get(4).expected()).isEqualTo("allow, shadow: allow");
    assertThat(r.cases().get(4).actual()).isEqualTo("allow, shadow: deny");
    assertThat(r.cases().get(5).actual()).isEqualTo("deny, no shadow verdict");
    assertThat(r.cases().get(6).actual())
        .isEqualTo("allow, shadow: (allow, rule none, message \"Allowed\")");
    assertThat(r.cases().get(4).report()).contains(
        "shadow:   deny, policy \"refunds\", rule \"quiet\", message \"Too loud\"");
  }

  @Test
  void casesShareCountersAndTheClockInOrder() {
    FileResult r = run("""
        cases:
          - {name: three refunds, call: refund, args: {amount: 1}, repeat: 3, expect: allow}
          - {name: fourth refund, call: refund, args: {amount: 1}, expect: {decision: deny, rule: three a minute}}
          - advance: 1m
          - {name: next minute, call: refund, args: {amount: 1}, expect: allow}
        """);

    assertThat(r.cases()).extracting(CaseResult::passed).containsExactly(true, true, true);
  }

  @Test
  void theClockStartsAtTheFilesInstant() {
    FileResult r = run("""
        clock: 2026-01-15T10:00:59Z
        cases:
          - {name: fill the minute, call: refund, args: {amount: 1}, repeat: 3, expect: allow}
          - advance: 1s
          - {name: a new UTC minute, call: refund, args: {amount: 1}, expect: allow}
        """);

    assertThat(r.allPassed()).isTrue();
  }

  @Test
  void everyRunStartsFresh() {
    PolicyTestFile file = PolicyTestFile.parse(POLICY + """
        cases:
          - {name: three refunds, call: refund, args: {amount: 1}, repeat: 3, expect: allow}
        """, "r.test.yaml", dir);

    assertThat(file.run().allPassed()).isTrue();
    assertThat(file.run().allPassed()).isTrue();
  }

  @Test
  void repeatReportsTheFirstCallThatDidNotMatch() {
    CaseResult r = only("""
        cases:
          - {name: five refunds, call: refund, args: {amount: 1}, repeat: 5, expect: allow}
        """);

    assertThat(r.passed()).isFalse();
    assertThat(r.detail()).isEqualTo("call 4 of 5 is shown; 2 of 5 calls did not match");
    assertThat(r.decision().rule()).isEqualTo("three a minute");
    assertThat(r.actual()).isEqualTo("deny");
  }

  @Test
  void visibilityCasesCompareTheVisibleTools() {
    FileResult r = run("""
        cases:
          - {name: right, tools: [refund, probe], expect_visible: [refund, probe]}
          - {name: wrong, tools: [refund, probe], expect_visible: [refund]}
        """);

    assertThat(r.cases()).extracting(CaseResult::passed).containsExactly(true, false);
    CaseResult wrong = r.cases().get(1);
    assertThat(wrong.expected()).isEqualTo("visible [refund]");
    assertThat(wrong.actual()).isEqualTo("visible [refund, probe]");
    assertThat(wrong.decision()).isNull();
    assertThat(wrong.report()).containsExactly("expected: visible [refund]",
        "actual:   visible [refund, probe]", "at r.test.yaml:30:5");
  }

  @Test
  void anApprovedCallIsDecidedAgainAndCharged() {
    FileResult r = run("""
        cases:
          - name: approved wire
            call: wire
            approval: {approve: true, by: alice}
            expect: {decision: allow, rule: null}
          - {name: nothing was charged by the wire, call: probe, expect: allow}
        """);

    assertThat(r.cases()).extracting(CaseResult::passed).containsExactly(true, true);
    assertThat(r.cases().get(0).decision().approval()).isNotNull();
  }

  @Test
  void aDeniedOrExpiredRequestIsTheFinalDenial() {
    FileResult r = run("""
        cases:
          - {name: denied, call: wire, approval: deny, expect: {decision: deny, rule: ask, message: Denied by approver test}}
          - {name: denied by bob, call: wire, approval: {approve: false, by: bob}, expect: {decision: deny, message: Denied by approver bob}}
          - {name: expired, call: wire, approval: timeout, expect: {decision: deny, message_contains: expired without a decision}}
        """);

    assertThat(r.cases()).extracting(CaseResult::passed).containsExactly(true, true, true);
    assertThat(r.cases().get(2).decision().message())
        .matches("Approval apr_[0-9a-f]{32} expired without a decision");
  }

  @Test
  void aTimeoutMovesTheSharedClockToTheRequestsExpiry() {
    FileResult r = run("""
        cases:
          - {name: three refunds fill the minute, call: refund, args: {amount: 1}, repeat: 3, expect: allow}
          - {name: the fourth is over, call: refund, args: {amount: 1}, expect: deny}
          - {name: wire times out after 15m, call: wire, approval: timeout, expect: deny}
          - {name: a new minute, call: refund, args: {amount: 1}, expect: allow}
        """);

    assertThat(r.cases()).extracting(CaseResult::passed).containsOnly(true);
  }

  @Test
  void anApprovalStepOnACallThatIsNotHeldFailsAndSaysSo() {
    CaseResult r = only("""
        cases:
          - name: refund is not held
            call: refund
            args: {amount: 1}
            approval: approve
            expect: allow
        """);

    assertThat(r.passed()).isFalse();
    assertThat(r.expected()).isEqualTo("allow");
    assertThat(r.actual()).isEqualTo("allow (not held)");
    assertThat(r.detail()).isEqualTo("the call was not held, so there was nothing to approve;"
        + " the decision shown is the call's own");
    assertThat(r.decision().isAllowed()).isTrue();
  }

  @Test
  void aFailingApprovalCaseTellsTheStoryOfTheApproval() {
    CaseResult r = only("""
        cases:
          - name: approved wire expected denied
            call: wire
            args: {to: x}
            approval: {approve: true, by: alice}
            expect: deny
        """);

    assertThat(r.passed()).isFalse();
    assertThat(r.actual()).isEqualTo("allow");
    assertThat(r.detail()).matches("held by rule \"ask\" \\(apr_[0-9a-f]{32}\\), then approved"
        + " by alice; the final decision is shown");
    assertThat(r.report()).anySatisfy(l -> assertThat(l).startsWith("held by rule"));
  }

  @Test
  void editedArgumentsMustBeAMapping() {
    assertThat(catchThrowable(() -> run("""
        cases:
          - {name: c, call: wire, approval: {approve: true, args: [1, 2]}, expect: allow}
        """))).hasMessageContaining("edited args must be a mapping");
  }

  @Test
  void holdsAreExpectedAsHold() {
    CaseResult r = only("""
        cases:
          - {name: wire, call: wire, expect: {decision: hold, rule: ask, message: 'Approval required by rule "ask"'}}
        """);

    assertThat(r.passed()).isTrue();
  }

  @Test
  void pricesAreRegistered() {
    FileResult r = PolicyTestFile.parse("""
        prices: {image: 0.04}
        policy:
          version: "1"
          tools:
            image:
              rules:
                - {name: budget, spend: {daily: 0.08}}
        cases:
          - {name: two images, call: image, repeat: 2, expect: allow}
          - {name: third image, call: image, expect: {decision: deny, message: Daily spend limit of 0.08 reached}}
        """, "p.test.yaml", dir).run();

    assertThat(r.allPassed()).isTrue();
  }
}
