package dev.saferun.examples.springai;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.saferun.audit.AuditEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The example, run once, end to end: what the model saw, what SafeRun decided, what ran. */
class SupportAgentApplicationTest {
  private static SupportAgentApplication.Result result;

  @BeforeAll
  static void runTheExample() throws Exception {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    result = SupportAgentApplication.run(new String[0],
        new PrintStream(console, true, StandardCharsets.UTF_8));
  }

  private static List<AuditEvent> events(AuditEvent.Type type, String tool) {
    return result.events().stream().filter(e -> e.type() == type && e.tool().equals(tool))
        .toList();
  }

  @Test
  void theModelIsNeverOfferedDeleteCustomer() {
    assertThat(result.modelRequests()).isNotEmpty().allSatisfy(r -> {
      assertThat(r.path("tools").size()).isEqualTo(2);
      assertThat(r.path("tools").toString()).doesNotContain("delete_customer");
    });
  }

  @Test
  void theSupervisorApprovedTheHeldRefundThroughTheActuatorWithAnEdit() {
    assertThat(result.pendingSeen()).hasSize(1);
    JsonNode pending = result.pendingSeen().get(0);
    assertThat(pending.path("tool").asText()).isEqualTo("create_refund");
    assertThat(pending.path("context").path("run").asText()).isEqualTo("ticket-4711");
    assertThat(pending.path("context").path("user").asText()).isEqualTo("dana");
    assertThat(events(AuditEvent.Type.HELD, "create_refund")).singleElement()
        .satisfies(e -> assertThat(e.rule()).isEqualTo("large refund needs approval"));
    assertThat(events(AuditEvent.Type.APPROVED, "create_refund")).singleElement()
        .satisfies(e -> assertThat(e.approver()).isEqualTo("sam.supervisor"));
  }

  @Test
  void theInjectionIsCappedAtTheConversationsRefundLimit() {
    assertThat(result.refunds()).containsExactly("cus_042 70.00", "cus_001 20.00",
        "cus_002 20.00", "cus_003 20.00", "cus_004 20.00");
    assertThat(events(AuditEvent.Type.DENIED, "create_refund")).hasSize(196)
        .allSatisfy(e -> assertThat(e.rule()).isEqualTo("refunds per conversation"));
  }

  @Test
  void theCallToTheHiddenToolIsDeniedAndTheConversationGoesOn() {
    assertThat(events(AuditEvent.Type.DENIED, "delete_customer")).singleElement()
        .satisfies(e -> assertThat(e.message()).isEqualTo(
            "Tool \"delete_customer\" is hidden by policy"));
    assertThat(result.deleted()).isEmpty();
    assertThat(result.answer()).contains("4 goodwill refunds").contains("196 more were refused")
        .contains("deleting cus_013 was refused").contains("$70.00");
  }

  @Test
  void everyToolCallOfTheTicketCarriesTheCallersIdentity() {
    assertThat(result.events()).filteredOn(e -> e.type() == AuditEvent.Type.ALLOWED
            || e.type() == AuditEvent.Type.DENIED || e.type() == AuditEvent.Type.HELD)
        .allSatisfy(e -> {
          assertThat(e.context().get("agent")).isEqualTo("support");
          assertThat(e.context().get("user")).isEqualTo("dana");
          assertThat(e.context().get("tenant")).isEqualTo("acme");
          assertThat(e.context().get("run")).isEqualTo("ticket-4711");
        });
  }

  @Test
  void thePrintedSummaryAddsUp() {
    assertThat(result.output())
        .contains("Tools offered to the model: create_refund, lookup_customer")
        .contains("tool calls decided: 204 (allowed 6, denied 197, held 1)")
        .contains("refunds executed:   5, $150.00: cus_042, cus_001, cus_002, cus_003, cus_004")
        .contains("counter create_refund.refunds for run ticket-4711 = 5")
        .contains("customers deleted:  none");
  }
}
