package dev.saferun.examples.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.saferun.audit.AuditEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The demo's outcome, as its README describes it. */
class SupportAgentDemoTest {
  private static SupportAgentDemo.Result result;

  @BeforeAll
  static void runTheDemo() throws Exception {
    result = SupportAgentDemo.run(new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8));
  }

  @Test
  void theInjectedRefundsAreCappedAtTheConversationLimit() {
    assertThat(result.refunds()).containsExactly("cus_042 25", "cus_001 20", "cus_002 20",
        "cus_003 20", "cus_004 20");
    assertThat(result.refunded()).isEqualByComparingTo(new BigDecimal("105"));
    List<AuditEvent> denied = result.events().stream()
        .filter(e -> e.type() == AuditEvent.Type.DENIED && e.tool().equals("create_refund"))
        .toList();
    assertThat(denied).hasSize(196).allMatch(e -> "refunds per conversation".equals(e.rule()));
  }

  @Test
  void theHiddenToolIsNeverOfferedAndItsCallIsDeniedWithoutEndingTheConversation() {
    for (JsonNode request : result.modelRequests()) {
      List<String> tools = new ArrayList<>();
      request.path("tools").forEach(t -> tools.add(t.path("function").path("name").asText()));
      assertThat(tools).containsExactlyInAnyOrder("lookup_customer", "create_refund");
    }
    assertThat(result.events()).filteredOn(e -> e.tool().equals("delete_customer"))
        .singleElement().extracting(AuditEvent::type).isEqualTo(AuditEvent.Type.DENIED);
    assertThat(result.answer()).startsWith("I refunded $25.00 to cus_042");
  }

  @Test
  void everyCallCarriesTheConversationAndTheCaller() {
    assertThat(result.events()).allSatisfy(e -> assertThat(e.context().asMap())
        .containsEntry("run", "ticket-4711").containsEntry("agent", "support")
        .containsEntry("user", "dana").containsEntry("tenant", "acme"));
  }

  @Test
  void theOutputIsTheSameOnEveryRun() throws Exception {
    SupportAgentDemo.Result again = SupportAgentDemo.run(new PrintStream(
        new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

    assertThat(again.output()).isEqualTo(result.output());
  }

  @Test
  void theOutputQuotedInTheReadmeIsWhatTheDemoPrints() throws Exception {
    Path readme = Path.of(System.getProperty("example.basedir", ".")).resolve("README.md");
    String text = Files.readString(readme);
    int start = text.indexOf("```\nSafeRun + LangChain4j");
    assertThat(start).as("the quoted output in README.md").isNotNegative();
    String quoted = text.substring(start + 4, text.indexOf("```", start + 4));

    for (String line : quoted.split("\n")) {
      if (!line.equals("...")) {
        assertThat(result.output()).as("README line of demo output").contains(line + "\n");
      }
    }
  }

  @Test
  void theWiringShownInTheReadmeIsTheDemosCode() throws Exception {
    Path dir = Path.of(System.getProperty("example.basedir", "."));
    String text = Files.readString(dir.resolve("README.md"));
    int start = text.indexOf("```java\n");
    assertThat(start).isNotNegative();
    String block = text.substring(start + 8, text.indexOf("```", start + 8));
    String source = Files.readString(
        dir.resolve("src/main/java/dev/saferun/examples/langchain4j/SupportAgentDemo.java"));

    assertThat(trimmedLines(source)).contains(trimmedLines(block));
  }

  private static String trimmedLines(String text) {
    return String.join("\n", text.strip().lines().map(String::strip).toList());
  }

  @Test
  void theReadmeCommandIsTheOneTheRootReadmeGives() throws Exception {
    Path dir = Path.of(System.getProperty("example.basedir", "."));
    String command = "./mvnw -B -q -pl examples/langchain4j-support-agent -am verify -DskipTests"
        + " -Ddemo";

    assertThat(Files.readString(dir.resolve("README.md"))).contains(command);
    assertThat(Files.readString(dir.resolve("../../README.md"))).contains(command);
  }
}
