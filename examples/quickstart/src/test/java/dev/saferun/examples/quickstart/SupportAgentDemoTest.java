package dev.saferun.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.examples.quickstart.SupportAgentDemo.Summary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The quickstart's outcome, as the README describes it. */
class SupportAgentDemoTest {

  private static final class Run {
    final Summary summary;
    final String output;

    Run() throws Exception {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
        summary = SupportAgentDemo.run(out);
      }
      output = bytes.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void theConversationEndsWithTheDocumentedCounts() throws Exception {
    Summary s = new Run().summary;

    assertThat(s.allowed()).isEqualTo(12);
    assertThat(s.denied()).isEqualTo(13);
    assertThat(s.held()).isEqualTo(1);
  }

  @Test
  void refundsNeverExceedTheDailyCapAndTheCounterMatchesWhatWasPaid() throws Exception {
    Summary s = new Run().summary;

    assertThat(s.cap()).isEqualByComparingTo("200");
    assertThat(s.refunded()).isEqualByComparingTo("190");
    assertThat(s.refunded()).isLessThanOrEqualTo(s.cap());
    assertThat(s.counted()).isEqualByComparingTo(s.refunded());
    assertThat(s.refunds()).isEqualTo(9);
  }

  @Test
  void theInjectedDeletionAndOutsideEmailNeverReachTheTools() throws Exception {
    Summary s = new Run().summary;

    assertThat(s.deleted()).isEmpty();
    assertThat(s.emailsSent()).containsExactly("dana@example.com");
  }

  @Test
  void theLargeRefundIsHeldWithAnApprovalIdAndTheSupervisorIsPaged() throws Exception {
    Run run = new Run();

    assertThat(run.summary.approvalIds()).hasSize(1);
    String id = run.summary.approvalIds().get(0);
    assertThat(id).matches("apr_[0-9a-f]{32}");
    assertThat(run.output)
        .contains("HELD     [large refund needs approval] Refunds over $100.00 need a"
            + " supervisor's approval")
        .contains("approval id " + id)
        .contains(">> onPause: supervisor paged, approve by 10:45:06 UTC: create_refund"
            + " {\"amount\":150,\"customer_id\":\"cus_002\",\"reason\":\"not delivered\"}");
  }

  @Test
  void everyKindOfDenialAppearsWithItsRuleAndMessage() throws Exception {
    String out = new Run().output;

    assertThat(out)
        .contains("DENIED   [refund rate limit] Rate limit of 5 per minute reached. Try again later.")
        .contains("DENIED   [refund loop breaker] Loop detected: create_refund called with"
            + " identical arguments 4 times within 10m")
        .contains("DENIED   [max single refund] A single refund cannot exceed $500.00")
        .contains("DENIED   Tool \"delete_customer\" is hidden by policy")
        .contains("DENIED   [customers only] Email may only be sent to customer addresses"
            + " (@example.com)")
        .contains("DENIED   [daily refund total] Daily refund budget of $200.00 is used up");
  }

  @Test
  void theHiddenToolIsNotOfferedToTheModel() throws Exception {
    assertThat(new Run().output).contains("Tools offered to the model: list_customers,"
        + " get_customer, create_refund, send_email   (hidden: delete_customer)");
  }

  @Test
  void theOutputIsTheSameOnEveryRunApartFromTheApprovalId() throws Exception {
    String first = new Run().output.replaceAll("apr_[0-9a-f]{32}", "apr_X");
    String second = new Run().output.replaceAll("apr_[0-9a-f]{32}", "apr_X");

    assertThat(second).isEqualTo(first);
  }

  @Test
  void theDemoPolicyLoadsWithoutWarnings() {
    assertThat(SupportAgentDemo.loadPolicy().warnings()).isEmpty();
  }

  @Test
  void theOutputQuotedInTheReadmeIsWhatTheDemoPrints() throws Exception {
    String out = new Run().output;
    List<Markdown.Block> quoted = Markdown.blocks(Markdown.root().resolve("README.md")).stream()
        .filter(b -> b.info().isEmpty() && b.text().contains("Summary"))
        .toList();
    assertThat(quoted).hasSize(1);

    for (String line : quoted.get(0).text().split("\n")) {
      if (!line.equals("...")) {
        assertThat(out).as("README line of demo output").contains(line + "\n");
      }
    }
  }

  @Test
  void amountsAreComparedExactly() {
    assertThat(FakeCrm.dollars(new BigDecimal("20"))).isEqualTo("$20.00");
    assertThat(FakeCrm.dollars(new BigDecimal("0.105"))).isEqualTo("$0.105");
  }
}
