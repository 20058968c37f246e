package dev.saferun.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.saferun.CallContext;
import dev.saferun.Execution;
import dev.saferun.Fixtures;
import dev.saferun.ManualClock;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The approval HTTP API on a real loopback server. */
@Timeout(30)
class ApprovalHttpHandlerTest {
  private static final String TOKEN = "test-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ManualClock clock = new ManualClock();
  private final HttpClient http = HttpClient.newHttpClient();
  private SafeRun safeRun;
  private HttpServer server;
  private String base;

  @BeforeEach
  void start() throws Exception {
    safeRun = SafeRun.builder()
        .policies(PolicySet.of(Fixtures.policy(String.format(ApprovalFlowTest.TWO_TIER, "defer"))))
        .clock(clock).auditSink(AuditSink.NONE).build();
    server = ApprovalHttpHandler.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        safeRun.approvals(), TOKEN);
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private HttpResponse<String> send(String method, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String hold(int amount) {
    return safeRun.evaluate(ToolCall.of("create_refund",
        "{\"amount\":" + amount + ",\"card\":\"4242\"}", CallContext.of("user", "u1")))
        .approval().id();
  }

  @Test
  void requestsWithoutTheTokenGet401() throws Exception {
    hold(8000);
    assertThat(send("GET", "/approvals", null, null).statusCode()).isEqualTo(401);
    assertThat(send("GET", "/approvals", null, "wrong-token-0123456789").statusCode())
        .isEqualTo(401);
    HttpResponse<String> r = send("POST", "/approvals/x/approve", "{\"by\":\"eve\"}", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
  }

  @Test
  void listApproveAndApproveTwice() throws Exception {
    String id = hold(8000);
    HttpResponse<String> list = send("GET", "/approvals", null, TOKEN);
    assertThat(list.statusCode()).isEqualTo(200);
    JsonNode items = JSON.readTree(list.body());
    assertThat(items).hasSize(1);
    assertThat(items.get(0).get("id").asText()).isEqualTo(id);
    assertThat(items.get(0).get("arguments").toString())
        .isEqualTo("{\"amount\":8000,\"card\":\"***\"}");
    assertThat(list.body()).doesNotContain("4242");

    HttpResponse<String> ok = send("POST", "/approvals/" + id + "/approve",
        "{\"by\":\"alice\",\"args\":{\"amount\":7000}}", TOKEN);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(ok.body()).get("state").asText()).isEqualTo("approved");
    assertThat(JSON.readTree(ok.body()).get("edited").asBoolean()).isTrue();

    HttpResponse<String> twice = send("POST", "/approvals/" + id + "/approve",
        "{\"by\":\"bob\"}", TOKEN);
    assertThat(twice.statusCode()).isEqualTo(409);
    assertThat(twice.body()).contains("already approved by alice");

    Execution e = safeRun.resume(id);
    assertThat(e.decision().isAllowed()).isTrue();
    assertThat(e.call().arguments()).isEqualTo("{\"amount\":7000}");
  }

  @Test
  void denyWithReason() throws Exception {
    String id = hold(9000);
    HttpResponse<String> r = send("POST", "/approvals/" + id + "/deny",
        "{\"by\":\"bob\",\"reason\":\"duplicate\"}", TOKEN);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(safeRun.resume(id).decision().message())
        .isEqualTo("Denied by approver bob: duplicate");
  }

  @Test
  void errorsMapToStatusCodes() throws Exception {
    String id = hold(9000);
    assertThat(send("GET", "/approvals/apr_unknown", null, TOKEN).statusCode()).isEqualTo(404);
    assertThat(send("POST", "/approvals/" + id + "/approve", "{}", TOKEN).statusCode())
        .isEqualTo(400);
    assertThat(send("POST", "/approvals/" + id + "/approve", "{\"by\":\"a\",\"args\":[1]}", TOKEN)
        .statusCode()).isEqualTo(400);
    assertThat(send("POST", "/approvals/" + id + "/approve", "not json", TOKEN).statusCode())
        .isEqualTo(400);
    assertThat(send("DELETE", "/approvals/" + id, null, TOKEN).statusCode()).isEqualTo(404);
    clock.advance(Duration.ofMinutes(16));
    assertThat(send("POST", "/approvals/" + id + "/approve", "{\"by\":\"alice\"}", TOKEN)
        .statusCode()).isEqualTo(410);
    HttpResponse<String> one = send("GET", "/approvals/" + id, null, TOKEN);
    assertThat(JSON.readTree(one.body()).get("state").asText()).isEqualTo("expired");
  }

  @Test
  void aShortTokenIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> new ApprovalHttpHandler(safeRun.approvals(), "short"))
        .hasMessageContaining("at least 16 characters");
  }
}
