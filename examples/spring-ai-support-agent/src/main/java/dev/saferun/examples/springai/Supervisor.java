package dev.saferun.examples.springai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A supervisor at the {@code saferun} actuator endpoint: lists the pending approvals
 * ({@code GET /actuator/saferun}) and approves one, with edited arguments
 * ({@code POST /actuator/saferun/{id}}), over HTTP like {@code curl} would. Prints what it does
 * as the equivalent {@code curl} commands.
 *
 * <p>Thread-safe.
 */
final class Supervisor {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final String base;
  private final PrintStream out;

  Supervisor(int port, PrintStream out) {
    this.base = "http://127.0.0.1:" + port + "/actuator/saferun";
    this.out = out;
  }

  /** The pending approvals, as the endpoint lists them. */
  JsonNode pending() throws IOException, InterruptedException {
    out.println("  $ curl -s " + base);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base)).GET().build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    JsonNode body = JSON.readTree(r.body());
    for (JsonNode a : body.path("pendingApprovals")) {
      out.println("    pending " + a.path("id").asText() + ": " + a.path("tool").asText() + " "
          + a.path("arguments").asText() + "  [" + a.path("rule").asText() + "] user "
          + a.path("context").path("user").asText() + ", conversation "
          + a.path("context").path("run").asText());
    }
    return body.path("pendingApprovals");
  }

  /** Approves request {@code id} with {@code editedArguments} (a JSON object). */
  JsonNode approve(String id, String approver, String editedArguments)
      throws IOException, InterruptedException {
    // Actuator request bodies are flat maps of strings: the edited arguments go as JSON text.
    String body = JSON.createObjectNode().put("decision", "approve").put("approver", approver)
        .put("arguments", editedArguments).toString();
    out.println("  $ curl -s -X POST " + base + "/" + id
        + " -H 'Content-Type: application/json' -d '" + body + "'");
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/" + id))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    JsonNode result = JSON.readTree(r.body());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("approval failed: HTTP " + r.statusCode() + " " + r.body());
    }
    out.println("    " + result.path("state").asText() + " by " + result.path("approver").asText()
        + (result.path("edited").asBoolean() ? ", arguments edited" : ""));
    return result;
  }
}
