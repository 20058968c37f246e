package dev.saferun.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.Decision.Outcome;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditEvent.Type;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.spi.StateStore;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/** The fluent Java API: calls, assertions that explain themselves, counters, approvals. */
class PolicyTesterTest {
  static final String POLICY = """
      version: "1"
      name: support
      hide: [delete_customer]
      approvals: {default_timeout: 15m}
      tools:
        create_refund:
          rules:
            - name: hard limit
              conditions: [{path: args.amount, op: lte, value: 50000}]
              on_deny: Refunds over $500.00 are never issued by the agent
            - name: large refunds need a human
              action: require_approval
              conditions: [{path: args.amount, op: gt, value: 10000}]
              on_deny: Refunds over $100.00 need a human
            - name: daily total
              state: {counter: daily_total, window: day, increment_from: args.amount, per: [user]}
              conditions: [{path: state.create_refund.daily_total, op: lte, value: 60000}]
              on_deny: Daily refund total of $600.00 reached
        send_email:
          rules:
            - name: external mail
              mode: shadow
              conditions: [{path: args.to, op: regex, value: "@example\\\\.com$"}]
              on_deny: Mail outside example.com
            - name: three a minute
              rate_limit: 3/minute
        generate_image:
          rules:
            - name: image budget
              spend: {daily: 0.08}
        list_orders:
          rules: []
      """;

  final FakeClock clock = FakeClock.at("2026-01-15T10:30:00Z");
  final PolicyTester tester = PolicyTester.fromYaml(POLICY)
      .clock(clock)
      .price("generate_image", "0.04")
      .context("agent", "support", "user", "u1");

  @Nested
  class Outcomes {
    @Test
    void allowDenyAndHoldAreAssertedWithTheirRuleAndMessage() {
      tester.call("create_refund", "{\"amount\": 4000}").isAllowed().byNoRule()
          .byPolicy("support").withMessage("Allowed");
      tester.call("create_refund", "{\"amount\": 60000}").isDenied().byRule("hard limit")
          .withMessage("Refunds over $500.00 are never issued by the agent")
          .withModelText("[SAFERUN POLICY DENIED] Refunds over $500.00 are never issued by the"
              + " agent");
      tester.call("create_refund", "{\"amount\": 20000}").isHeld()
          .byRule("large refunds need a human").withMessageContaining("need a human");
      tester.call("delete_customer", "{\"id\": \"cus_1\"}").isDenied().byNoRule()
          .withMessage("Tool \"delete_customer\" is hidden by policy");
    }

    @Test
    void shadowVerdictsAreAssertedBesideTheOutcome() {
      tester.call("send_email", "{\"to\": \"ann@evil.test\"}").isAllowed()
          .withShadow(Outcome.DENY).withShadowRule("external mail");
      tester.call("send_email", "{\"to\": \"ann@example.com\"}").isAllowed()
          .withShadow(Outcome.ALLOW);
      tester.call("list_orders").isAllowed().withoutShadow();
    }

    @Test
    void aFixedWindowDenialCarriesItsRetryAfter() {
      for (int i = 0; i < 3; i++) {
        tester.call("send_email", "{\"to\": \"a@example.com\"}").isAllowed();
      }
      clock.advance(Duration.ofSeconds(20));
      tester.call("send_email", "{\"to\": \"a@example.com\"}").isDenied()
          .byRule("three a minute").withRetryAfter(Duration.ofSeconds(40));
    }

    @Test
    void pricesFeedSpendRules() {
      tester.call("generate_image").isAllowed();
      tester.call("generate_image").isAllowed();
      tester.call("generate_image").isDenied().withMessage("Daily spend limit of 0.08 reached");
      assertThat(tester.counter("generate_image._spend_day")).isEqualByComparingTo("0.08");
    }

    @Test
    void theCallsContextIsMergedOverTheDefault() {
      DecisionAssert a = tester.call("list_orders", "{}", CallContext.of("user", "u2"));

      assertThat(a.call().context().asMap()).containsEntry("agent", "support")
          .containsEntry("user", "u2");
    }
  }

  @Nested
  class Failures {
    @Test
    void aWrongOutcomeExplainsTheCallTheDecisionItsVersionAndTheTrace() {
      AssertionFailedError e = catchThrowableOfType(AssertionFailedError.class,
          () -> tester.call("create_refund", "{\"amount\": 60000}").isAllowed());

      String version = tester.policies().policies().get(0).version().substring(0, 12);
      assertThat(e.getMessage()).isEqualTo(String.join("\n",
          "Expected the call create_refund {\"amount\": 60000} with context {agent=support,"
              + " user=u1}",
          "to be allowed,",
          "but it was denied.",
          "  decision: deny, policy \"support\" (version " + version + "), rule \"hard limit\","
              + " message \"Refunds over $500.00 are never issued by the agent\"",
          "  trace:",
          "    support / create_refund / \"hard limit\": DENIED - args.amount = 60000 is not lte"
              + " 50000"));
      assertThat(e.getExpected().getStringRepresentation()).isEqualTo("allow");
      assertThat(e.getActual().getStringRepresentation()).isEqualTo("deny");
    }

    @Test
    void aWrongRuleShowsBothRulesAndEveryRuleThatRan() {
      AssertionFailedError e = catchThrowableOfType(AssertionFailedError.class,
          () -> tester.call("create_refund", "{\"amount\": 20000}").isHeld()
              .byRule("daily total"));

      assertThat(e.getMessage()).contains("to be decided by rule \"daily total\",\n"
          + "but rule \"large refunds need a human\" decided it.")
          .contains("\"hard limit\": PASSED")
          .contains("\"large refunds need a human\": HELD")
          .contains("  approval: apr_");
    }

    @Test
    void aWrongMessageIsAnIdeDiff() {
      AssertionFailedError e = catchThrowableOfType(AssertionFailedError.class,
          () -> tester.call("create_refund", "{\"amount\": 60000}").withMessage("Too much"));

      assertThat(e.getExpected().getValue()).isEqualTo("Too much");
      assertThat(e.getActual().getValue())
          .isEqualTo("Refunds over $500.00 are never issued by the agent");
    }

    @Test
    void aMissingShadowVerdictSaysNoShadowRuleRan() {
      assertThatThrownBy(() -> tester.call("list_orders").withShadow(Outcome.DENY))
          .hasMessageContaining("to have a shadow verdict of deny,\nbut no shadow rule or policy"
              + " ran.");
    }

    @Test
    void aStandaloneDecisionWithoutATraceSaysHowToGetOne() {
      SafeRun untraced = SafeRun.builder().policies(tester.policies()).clock(clock)
          .price("generate_image", BigDecimal.ONE).build();
      Decision d = untraced.evaluate(ToolCall.of("create_refund", "{\"amount\": 60000}"));

      assertThatThrownBy(() -> DecisionAssert.assertThat(d).isAllowed())
          .hasMessageStartingWith("Expected the decision\nto be allowed,\nbut it was denied.")
          .hasMessageContaining("trace: (none: no rule ran, or tracing is off; see"
              + " SafeRun.builder().trace(true))");
    }

    @Test
    void aDescriptionIsPrefixed() {
      assertThatThrownBy(() -> tester.call("list_orders").as("orders").isDenied())
          .hasMessageStartingWith("[orders] Expected the call list_orders {}");
    }
  }

  @Nested
  class Counters {
    @Test
    void countersAreReadForTheDefaultContextOrAnother() {
      tester.call("create_refund", "{\"amount\": 4000}").isAllowed();
      tester.call("create_refund", "{\"amount\": 3000}", CallContext.of("user", "u2"))
          .isAllowed();

      assertThat(tester.counter("create_refund.daily_total")).isEqualByComparingTo("4000");
      assertThat(tester.counter("create_refund.daily_total", CallContext.of("user", "u2")))
          .isEqualByComparingTo("3000");
      assertThat(tester.counter("create_refund.daily_total", CallContext.of("user", "u3")))
          .isEqualByComparingTo("0");
    }

    @Test
    void rateLimitCountersHaveTheirShorthandNames() {
      tester.call("send_email", "{\"to\": \"a@example.com\"}").isAllowed();

      assertThat(tester.counter("send_email._rate_minute")).isEqualByComparingTo("1");
    }

    @Test
    void aDeniedOrHeldCallChargesNothing() {
      tester.call("create_refund", "{\"amount\": 60000}").isDenied();
      tester.call("create_refund", "{\"amount\": 20000}").isHeld();

      assertThat(tester.counter("create_refund.daily_total")).isZero();
    }

    @Test
    void advancingTheClockMovesTheWindow() {
      tester.call("create_refund", "{\"amount\": 10000}").isAllowed();
      tester.advance(Duration.ofHours(14)).call("list_orders").isAllowed();

      assertThat(tester.counter("create_refund.daily_total")).isZero();
      assertThat(tester.clock().instant()).isEqualTo(Instant.parse("2026-01-16T00:30:00Z"));
    }

    @Test
    void anUnknownCounterIsAnErrorListingTheKnownOnes() {
      assertThatThrownBy(() -> tester.counter("create_refund.daily"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("No policy defines counter 'create_refund.daily'; counters are named"
              + " <tool or _global>.<counter>, and the policies define [create_refund.daily_total,"
              + " send_email._rate_minute, generate_image._spend_day]");
    }
  }

  @Nested
  class Approvals {
    @Test
    void anApprovedCallIsEvaluatedAgainAndCharged() {
      Decision held = tester.call("create_refund", "{\"amount\": 20000}").isHeld().decision();

      tester.approve(held, "alice").isAllowed().byNoRule();
      assertThat(tester.counter("create_refund.daily_total")).isEqualByComparingTo("20000");
      assertThat(tester.audit().summaries()).containsExactly(
          "HELD create_refund rule=\"large refunds need a human\"",
          "APPROVED create_refund rule=\"large refunds need a human\" by=alice",
          "ALLOWED create_refund by=alice");
    }

    @Test
    void anEditIsWhatIsEvaluatedAndCharged() {
      Decision held = tester.call("create_refund", "{\"amount\": 30000}").isHeld().decision();

      DecisionAssert approved = tester.approve(held, "alice", "{\"amount\": 15000}").isAllowed();
      assertThat(approved.call().arguments()).isEqualTo("{\"amount\":15000}");
      assertThat(tester.counter("create_refund.daily_total")).isEqualByComparingTo("15000");
    }

    @Test
    void anEditOverTheHardLimitAboveTheApprovalRuleIsDenied() {
      Decision held = tester.call("create_refund", "{\"amount\": 30000}").isHeld().decision();

      tester.approve(held, "alice", "{\"amount\": 70000}").isDenied().byRule("hard limit");
      assertThat(tester.counter("create_refund.daily_total")).isZero();
    }

    @Test
    void anApprovalCannotLiftACounterPastItsLimit() {
      Decision first = tester.call("create_refund", "{\"amount\": 50000}").isHeld().decision();
      tester.approve(first).isAllowed();
      Decision second = tester.call("create_refund", "{\"amount\": 20000}").isHeld().decision();

      tester.approve(second).isDenied().byRule("daily total")
          .withMessage("Daily refund total of $600.00 reached");
    }

    @Test
    void aDenialNamesTheApproverAndReason() {
      Decision held = tester.call("create_refund", "{\"amount\": 20000}").isHeld().decision();

      tester.deny(held, "bob", "duplicate").isDenied().byRule("large refunds need a human")
          .withMessage("Denied by approver bob: duplicate");
      assertThat(tester.audit().types()).containsExactly(Type.HELD, Type.APPROVAL_DENIED);
    }

    @Test
    void anExpiryMovesTheClockToTheDeadlineAndDenies() {
      Decision held = tester.call("create_refund", "{\"amount\": 20000}").isHeld().decision();

      tester.expire(held).isDenied()
          .withMessage("Approval " + held.approval().id() + " expired without a decision");
      assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-15T10:45:00Z"));
      assertThat(tester.audit().types()).containsExactly(Type.HELD, Type.EXPIRED);
    }

    @Test
    void onlyAHeldCallCanBeApproved() {
      Decision allowed = tester.call("list_orders").decision();

      assertThatThrownBy(() -> tester.approve(allowed, "alice"))
          .isInstanceOf(AssertionError.class)
          .hasMessageStartingWith("[Cannot approve a call that was not held] Expected the"
              + " decision\nto be held for approval,\nbut it was allowed.");
    }
  }

  @Nested
  class Setup {
    @TempDir
    Path dir;

    @Test
    void visibleToolsLeaveOutHiddenOnes() {
      assertThat(tester.visibleTools("list_orders", "delete_customer", "create_refund"))
          .containsExactly("list_orders", "create_refund");
      assertThat(tester.visibleTools(List.of("delete_customer"))).isEmpty();
    }

    @Test
    void visibleToolsDependOnTheContextThroughMatch() {
      PolicyTester t = PolicyTester.fromYaml("""
          version: "1"
          match: {environment: prod}
          hide: [drop_table]
          tools:
            query: {rules: []}
          """).context("environment", "prod");

      assertThat(t.visibleTools("query", "drop_table")).containsExactly("query");
      assertThat(t.visibleTools(List.of("query", "drop_table"), CallContext.of("environment",
          "dev"))).as("no policy applies in dev: fail closed").isEmpty();
    }

    @Test
    void configurationAfterTheFirstCallIsAnError() {
      tester.call("list_orders");

      assertThatThrownBy(() -> tester.clock(new FakeClock()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("PolicyTester.clock(…) must be set before the first call: the SafeRun is"
              + " already built");
      assertThatThrownBy(() -> tester.price("x", "1")).isInstanceOf(IllegalStateException.class);
      tester.context("user", "u9").call("list_orders").isAllowed();
    }

    @Test
    void policiesLoadFromFilesAndObjects() throws Exception {
      Path file = dir.resolve("support.yaml");
      Files.writeString(file, POLICY);

      PolicyTester.load(file).price("generate_image", "1").call("list_orders").isAllowed()
          .byPolicy("support");
      PolicyTester.of(PolicyLoader.loadString(POLICY, "other.yaml"))
          .price("generate_image", "1").call("list_orders").isAllowed().byPolicy("support");
    }

    @Test
    void aStateStoreAndAnExtraAuditSinkCanBeGiven() {
      FakeClock c = new FakeClock();
      StateStore store = StateStore.inMemory(c);
      RecordingAuditSink mine = new RecordingAuditSink();
      PolicyTester t = PolicyTester.fromYaml(POLICY).clock(c).price("generate_image", "0.04")
          .stateStore(store).auditSink(mine);

      t.call("send_email", "{\"to\": \"a@example.com\"}").isAllowed();

      assertThat(mine.types()).containsExactly(Type.ALLOWED);
      assertThat(t.audit().types()).containsExactly(Type.ALLOWED);
      assertThat(t.safeRun().clock()).isSameAs(c);
    }

    @Test
    void callsFromManyThreadsShareOneExactCounter() throws Exception {
      PolicyTester t = PolicyTester.fromYaml("""
          version: "1"
          tools:
            ping:
              rules:
                - {name: hundred a day, rate_limit: 100/day}
          """);
      t.call("ping").isAllowed();
      int threads = 8;
      CountDownLatch start = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<Integer>> allowed = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          allowed.add(pool.submit(() -> {
            start.await();
            int n = 0;
            for (int j = 0; j < 50; j++) {
              if (t.call("ping").decision().isAllowed()) {
                n++;
              }
            }
            return n;
          }));
        }
        start.countDown();
        int total = 0;
        for (Future<Integer> f : allowed) {
          total += f.get(30, TimeUnit.SECONDS);
        }
        assertThat(total).isEqualTo(99);
        assertThat(t.counter("ping._rate_day")).isEqualByComparingTo("100");
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
