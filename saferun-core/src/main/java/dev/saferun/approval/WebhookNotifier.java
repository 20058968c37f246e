package dev.saferun.approval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.saferun.Clock;
import dev.saferun.internal.approval.HttpPoster;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Posts each new approval request as JSON to a webhook ({@code type: approval.requested}, the
 * request with <em>redacted</em> arguments only). With a secret, every post carries
 * {@code X-SafeRun-Timestamp} (epoch seconds) and {@code X-SafeRun-Signature: sha256=<hex>}, the
 * HMAC-SHA256 of {@code <timestamp>.<body>} with the secret, so the receiver can check origin and
 * freshness.
 *
 * <p>Never blocks the decision path: {@link #onPause} returns at once; delivery is asynchronous
 * with a per-attempt timeout (default 5 s) and bounded retries on network errors, 5xx and 429
 * (default 3 attempts, backoff 1 s, 2 s, … measured on the injected clock). A failed delivery is
 * logged; the request stays pending and listed by {@code Approvals.pending()} either way.
 *
 * <p>Thread-safe.
 */
public final class WebhookNotifier implements OnPause {
  private final HttpPoster poster;
  private final byte[] secret;
  private final Clock clock;

  private WebhookNotifier(Builder b) {
    this.secret = b.secret;
    this.clock = b.clock;
    this.poster = new HttpPoster(b.client, b.uri, b.timeout, b.maxAttempts, b.backoff, b.clock,
        b.maxInFlight, b.listener);
  }

  /** Starts configuring a notifier for {@code url}. */
  public static Builder builder(URI url) {
    return new Builder(url);
  }

  @Override
  public void onPause(ApprovalRequest request) {
    ObjectNode body = Notifications.JSON.createObjectNode();
    body.put("type", "approval.requested");
    body.set("request", Notifications.request(request));
    String json = body.toString();
    poster.post(request.id(), json, () -> headers(json));
  }

  private Map<String, String> headers(String json) {
    if (secret == null) {
      return Map.of();
    }
    String ts = Long.toString(clock.wallMillis() / 1000L);
    return Map.of("X-SafeRun-Timestamp", ts, "X-SafeRun-Signature",
        "sha256=" + sign(secret, ts + "." + json));
  }

  /** HMAC-SHA256 of {@code message} with {@code secret}, hex. For receivers verifying posts. */
  public static String sign(byte[] secret, String message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** Configures a {@link WebhookNotifier}. Not thread-safe. */
  public static final class Builder {
    private final URI uri;
    private byte[] secret;
    private Duration timeout = Duration.ofSeconds(5);
    private int maxAttempts = 3;
    private Duration backoff = Duration.ofSeconds(1);
    private int maxInFlight = 256;
    private Clock clock = Clock.system();
    private HttpClient client;
    private Consumer<HttpPoster.Delivery> listener = d -> { };

    private Builder(URI uri) {
      this.uri = Objects.requireNonNull(uri, "url");
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
        throw new IllegalArgumentException("webhook url must be http(s), got " + uri);
      }
    }

    /** Signs every post with HMAC-SHA256 (at least 16 bytes). */
    public Builder secret(String secret) {
      byte[] s = secret.getBytes(StandardCharsets.UTF_8);
      if (s.length < 16) {
        throw new IllegalArgumentException("webhook secret must be at least 16 bytes");
      }
      this.secret = s;
      return this;
    }

    /** Per-attempt timeout. Default 5 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Attempts per notification (1–10) and the first backoff (doubling). Default 3, 1 s. */
    public Builder retries(int maxAttempts, Duration backoff) {
      if (maxAttempts < 1 || maxAttempts > 10) {
        throw new IllegalArgumentException("maxAttempts must be 1..10, got " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /** Most notifications in flight; beyond it new ones are dropped and logged. Default 256. */
    public Builder maxInFlight(int maxInFlight) {
      this.maxInFlight = maxInFlight;
      return this;
    }

    /** The clock that times retries. Default {@link Clock#system()}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The HTTP client. Default: a new one with a 5 s connect timeout. */
    public Builder httpClient(HttpClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * Called once per notification when delivery finished or gave up: (id, delivered?, attempts,
     * last status, last error). Runs on an HTTP client thread; must not block.
     */
    public Builder onDelivery(Consumer<Delivery> listener) {
      this.listener = d -> listener.accept(new Delivery(d.id(), d.delivered(), d.attempts(),
          d.lastStatus(), d.lastError()));
      return this;
    }

    public WebhookNotifier build() {
      if (client == null) {
        client = HttpClient.newBuilder().connectTimeout(timeout).build();
      }
      return new WebhookNotifier(this);
    }
  }

  /**
   * The outcome of one notification after all its attempts.
   *
   * @param id the approval id
   * @param delivered whether an attempt got a 2xx response
   * @param attempts attempts made
   * @param lastStatus the last HTTP status, or -1 when none arrived
   * @param lastError the last failure, or {@code null}
   */
  public record Delivery(String id, boolean delivered, int attempts, int lastStatus,
      String lastError) {}
}
