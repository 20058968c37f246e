package dev.saferun.test.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.test.FakeClock;
import dev.saferun.test.PolicyTester;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

// DOCS-BEGIN
class RefundPolicyTest {
  FakeClock clock = FakeClock.at("2026-01-15T10:30:00Z");
  PolicyTester tester = PolicyTester.load(Path.of("src/test/policies/refunds.yaml"))
      .clock(clock)
      .context("agent", "support", "user", "u1");

  @Test
  void largeRefundsWaitForAHumanWhoMayEditThem() {
    tester.call("create_refund", "{\"amount\": 5000}").isAllowed();
    tester.call("create_refund", "{\"amount\": 60000}").isDenied().byRule("hard limit");
    Decision held = tester.call("create_refund", "{\"amount\": 20000}")
        .isHeld().byRule("large refunds need a human").decision();

    tester.approve(held, "alice", "{\"amount\": 15000}").isAllowed();

    assertThat(tester.counter("create_refund.daily_total")).isEqualByComparingTo("20000");
    assertThat(tester.audit().summaries()).containsExactly(
        "ALLOWED create_refund",
        "DENIED create_refund rule=\"hard limit\"",
        "HELD create_refund rule=\"large refunds need a human\"",
        "APPROVED create_refund rule=\"large refunds need a human\" by=alice",
        "ALLOWED create_refund by=alice");
  }

  @Test
  void theDailyTotalIsPerUserAndResetsAtMidnightUtc() {
    for (int i = 0; i < 10; i++) {
      tester.call("create_refund", "{\"amount\": 10000}").isAllowed();
    }
    tester.call("create_refund", "{\"amount\": 1}").isDenied().byRule("daily total");
    tester.call("create_refund", "{\"amount\": 1}", CallContext.of("user", "u2")).isAllowed();

    clock.advance(Duration.ofHours(14));

    assertThat(tester.counter("create_refund.daily_total")).isZero();
    tester.call("create_refund", "{\"amount\": 10000}").isAllowed();
  }

  @Test
  void deniedRequestsNameTheApproverAndUnansweredOnesExpire() {
    Decision first = tester.call("create_refund", "{\"amount\": 30000}").isHeld().decision();
    tester.deny(first, "bob", "duplicate").isDenied()
        .withMessage("Denied by approver bob: duplicate");

    Decision second = tester.call("create_refund", "{\"amount\": 25000}").isHeld().decision();
    tester.expire(second).isDenied().withMessageContaining("expired without a decision");
    assertThat(clock.instant()).isEqualTo("2026-01-15T10:45:00Z");
  }

  @Test
  void externalMailIsMeasuredInShadowModeBeforeItIsEnforced() {
    tester.call("send_email", "{\"to\": \"ann@elsewhere.test\"}")
        .isAllowed()
        .withShadow(Decision.Outcome.DENY)
        .withShadowRule("mail stays inside");
  }

  @Test
  void theModelNeverSeesDeleteCustomer() {
    assertThat(tester.visibleTools("list_orders", "create_refund", "delete_customer"))
        .containsExactly("list_orders", "create_refund");
    tester.call("delete_customer", "{\"id\": \"cus_1\"}").isDenied()
        .withMessage("Tool \"delete_customer\" is hidden by policy");
  }
}
// DOCS-END
