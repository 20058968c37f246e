package dev.saferun.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.saferun.CallContext;
import dev.saferun.ManualClock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Webhook and Slack notifiers against a real HTTP server on loopback. */
@Timeout(30)
class NotifierTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET = "0123456789abcdef-secret";

  private HttpServer server;
  private final BlockingQueue<String[]> received = new ArrayBlockingQueue<>(100);
  private final AtomicInteger failFirst = new AtomicInteger();
  private final CountDownLatch release = new CountDownLatch(1);
  private volatile boolean hold;

  private URI start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext("/hook", ex -> {
      try (ex) {
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        received.add(new String[] {body,
            String.valueOf(ex.getRequestHeaders().getFirst("X-SafeRun-Signature")),
            String.valueOf(ex.getRequestHeaders().getFirst("X-SafeRun-Timestamp"))});
        if (hold) {
          release.await(20, TimeUnit.SECONDS);
        }
        int status = failFirst.getAndDecrement() > 0 ? 503 : 200;
        ex.sendResponseHeaders(status, -1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (server != null) {
      server.stop(0);
    }
  }

  static ApprovalRequest request(String args, String redacted) {
    Instant t = Instant.parse("2026-01-15T10:30:00Z");
    return new ApprovalRequest("apr_0123456789abcdef0123456789abcdef", "create_refund", args,
        redacted, "hash", "refunds", "v1", "large refunds need a human",
        "Approval required by rule \"large refunds need a human\"",
        CallContext.of("user", "u1"), t, t.plusSeconds(900), "key", true);
  }

  @Test
  void webhookPostsSignedJsonWithRedactedArgumentsOnly() throws Exception {
    URI uri = start();
    ManualClock clock = new ManualClock();
    BlockingQueue<WebhookNotifier.Delivery> deliveries = new ArrayBlockingQueue<>(10);
    WebhookNotifier n = WebhookNotifier.builder(uri).secret(SECRET).clock(clock)
        .onDelivery(deliveries::add).build();
    n.onPause(request("{\"amount\":9000,\"card\":\"4242\"}", "{\"amount\":9000,\"card\":\"***\"}"));
    String[] got = received.poll(10, TimeUnit.SECONDS);
    assertThat(got).isNotNull();
    JsonNode body = JSON.readTree(got[0]);
    assertThat(body.get("type").asText()).isEqualTo("approval.requested");
    assertThat(body.at("/request/id").asText()).startsWith("apr_");
    assertThat(body.at("/request/arguments").toString())
        .isEqualTo("{\"amount\":9000,\"card\":\"***\"}");
    assertThat(got[0]).doesNotContain("4242");
    String expected = "sha256=" + WebhookNotifier.sign(SECRET.getBytes(StandardCharsets.UTF_8),
        got[2] + "." + got[0]);
    assertThat(got[1]).isEqualTo(expected);
    assertThat(got[2]).isEqualTo(Long.toString(clock.wallMillis() / 1000));
    assertThat(deliveries.poll(10, TimeUnit.SECONDS).delivered()).isTrue();
  }

  @Test
  void retriesAreBoundedAndTimedByTheInjectedClock() throws Exception {
    URI uri = start();
    failFirst.set(5);
    ManualClock clock = new ManualClock();
    BlockingQueue<WebhookNotifier.Delivery> deliveries = new ArrayBlockingQueue<>(10);
    WebhookNotifier n = WebhookNotifier.builder(uri).secret(SECRET).clock(clock)
        .retries(3, Duration.ofSeconds(1)).onDelivery(deliveries::add).build();
    n.onPause(request("{}", "{}"));
    assertThat(received.poll(10, TimeUnit.SECONDS)).isNotNull();
    assertThat(received.poll(200, TimeUnit.MILLISECONDS)).as("no retry before backoff").isNull();
    waitForScheduledRetry(clock, Duration.ofSeconds(1));
    assertThat(received.poll(10, TimeUnit.SECONDS)).isNotNull();
    waitForScheduledRetry(clock, Duration.ofSeconds(2));
    assertThat(received.poll(10, TimeUnit.SECONDS)).isNotNull();
    WebhookNotifier.Delivery d = deliveries.poll(10, TimeUnit.SECONDS);
    assertThat(d.delivered()).isFalse();
    assertThat(d.attempts()).isEqualTo(3);
    assertThat(d.lastStatus()).isEqualTo(503);
    clock.advance(Duration.ofMinutes(10));
    assertThat(received.poll(200, TimeUnit.MILLISECONDS)).as("bounded: no 4th attempt").isNull();
  }

  /** The retry is scheduled when the failed response arrives; advance once it is. */
  private static void waitForScheduledRetry(ManualClock clock, Duration backoff)
      throws InterruptedException {
    assertThat(clock.awaitScheduled(1, 10_000)).as("a retry was scheduled").isTrue();
    clock.advance(backoff);
  }

  @Test
  void onPauseNeverBlocksEvenWhenTheReceiverHangs() throws Exception {
    URI uri = start();
    hold = true;
    WebhookNotifier n = WebhookNotifier.builder(uri).timeout(Duration.ofSeconds(20)).build();
    long before = System.nanoTime();
    for (int i = 0; i < 20; i++) {
      n.onPause(request("{}", "{}"));
    }
    long tookMillis = (System.nanoTime() - before) / 1_000_000;
    assertThat(tookMillis).isLessThan(2000);
    assertThat(received.poll(10, TimeUnit.SECONDS)).isNotNull();
  }

  @Test
  void slackMessageIsReadableAndEscapesInjectedText() throws Exception {
    URI uri = start();
    SlackNotifier slack = SlackNotifier.builder(uri).approveUrlBase("https://ops.example")
        .build();
    ApprovalRequest r = request("{\"note\":\"<!channel> pay me\"}",
        "{\"note\":\"<!channel> pay me & <https://evil|click>\"}");
    slack.onPause(r);
    String[] got = received.poll(10, TimeUnit.SECONDS);
    JsonNode msg = JSON.readTree(got[0]);
    String text = msg.at("/blocks/0/text/text").asText();
    assertThat(text).contains("*Approval needed* for `create_refund`")
        .contains("*Rule:* large refunds need a human (policy refunds)")
        .contains("*Context:* user=u1")
        .contains("*Expires:* 2026-01-15T10:45:00Z")
        .contains("POST https://ops.example/approvals/apr_0123456789abcdef0123456789abcdef/approve")
        .contains("&lt;!channel&gt; pay me &amp; &lt;https://evil|click&gt;")
        .doesNotContain("<!channel>");
    assertThat(msg.get("text").asText()).contains("create_refund");
  }
}
