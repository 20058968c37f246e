package dev.saferun.controls;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.saferun.CallContext;
import dev.saferun.Fixtures;
import dev.saferun.KillSwitchHttpHandler;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The kill switch over HTTP, on loopback. */
@Timeout(30)
class KillSwitchHttpHandlerTest {
  private static final String TOKEN = "kill-switch-token-0123";

  @Test
  void engageAndReleaseOverHttp() throws Exception {
    SafeRun s = SafeRun.builder().policies(PolicySet.of(Fixtures.policy(
            "version: \"1\"\ndefault: allow\ntools: {}\n")))
        .clock(new ManualClock()).auditSink(AuditSink.NONE).build();
    HttpServer server = KillSwitchHttpHandler.start(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), s.killSwitch(), TOKEN);
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/kill-switch";
    try {
      HttpResponse<String> anon = http.send(HttpRequest.newBuilder(URI.create(base)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(anon.statusCode()).isEqualTo(401);
      HttpResponse<String> engage = http.send(HttpRequest.newBuilder(URI.create(base + "/engage"))
          .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + TOKEN)
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"by\":\"oncall\",\"reason\":\"storm\",\"agents\":[\"support\"]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(engage.statusCode()).isEqualTo(200);
      assertThat(engage.body()).contains("\"engaged\":true").contains("support");
      assertThat(s.evaluate(ToolCall.of("x", "{}", CallContext.of("agent", "support"))).message())
          .isEqualTo("Kill switch engaged by oncall: storm");
      HttpResponse<String> noBy = http.send(HttpRequest.newBuilder(URI.create(base + "/release"))
          .header("Authorization", "Bearer " + TOKEN)
          .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(noBy.statusCode()).isEqualTo(400);
      // an oversized body is refused whole, with the reason (not truncated and misread)
      HttpResponse<String> huge = http.send(HttpRequest.newBuilder(URI.create(base + "/engage"))
          .header("Authorization", "Bearer " + TOKEN)
          .POST(HttpRequest.BodyPublishers.ofString("{\"by\":\"oncall\",\"reason\":\""
              + "x".repeat(300 * 1024) + "\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(huge.statusCode()).isEqualTo(400);
      assertThat(huge.body()).contains("body larger than 262144 bytes");
      HttpResponse<String> release = http.send(HttpRequest.newBuilder(URI.create(base + "/release"))
          .header("Authorization", "Bearer " + TOKEN)
          .POST(HttpRequest.BodyPublishers.ofString("{\"by\":\"oncall\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(release.body()).contains("\"engaged\":false");
      assertThat(s.evaluate(ToolCall.of("x", "{}", CallContext.of("agent", "support")))
          .isAllowed()).isTrue();
    } finally {
      server.stop(0);
    }
  }
}
