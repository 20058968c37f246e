package dev.saferun.internal.approval;

import dev.saferun.Clock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts JSON asynchronously with a timeout and bounded retries (backoff on the injected clock).
 * {@link #post} never blocks: it returns at once, and when too many posts are in flight it drops
 * the new one with an error log (the approval request itself is stored and listed regardless).
 * Thread-safe.
 */
public final class HttpPoster {
  private static final Logger LOG = LoggerFactory.getLogger(HttpPoster.class);

  private final HttpClient client;
  private final URI uri;
  private final Duration timeout;
  private final int maxAttempts;
  private final Duration backoff;
  private final Clock clock;
  private final Semaphore inFlight;
  private final Consumer<Delivery> listener;

  /**
   * The outcome of one post, after all its attempts.
   *
   * @param id what was posted (an approval id)
   * @param delivered whether some attempt got a 2xx
   * @param attempts how many attempts were made
   * @param lastStatus the last HTTP status, or -1 when no response arrived
   * @param lastError the last failure, or {@code null}
   */
  public record Delivery(String id, boolean delivered, int attempts, int lastStatus,
      String lastError) {}

  public HttpPoster(HttpClient client, URI uri, Duration timeout, int maxAttempts,
      Duration backoff, Clock clock, int maxInFlight, Consumer<Delivery> listener) {
    this.client = client;
    this.uri = uri;
    this.timeout = timeout;
    this.maxAttempts = maxAttempts;
    this.backoff = backoff;
    this.clock = clock;
    this.inFlight = new Semaphore(maxInFlight);
    this.listener = listener;
  }

  /** Posts {@code body} with extra headers computed per attempt. Returns at once. */
  public void post(String id, String body, java.util.function.Supplier<Map<String, String>>
      headers) {
    if (!inFlight.tryAcquire()) {
      LOG.error("Notification for {} to {} dropped: too many in flight", id, uri.getHost());
      listener.accept(new Delivery(id, false, 0, -1, "dropped: too many in flight"));
      return;
    }
    attempt(id, body, headers, 1);
  }

  private void attempt(String id, String body,
      java.util.function.Supplier<Map<String, String>> headers, int n) {
    HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(timeout)
        .header("Content-Type", "application/json")
        .header("User-Agent", "SafeRun")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.get().forEach(rb::header);
    client.sendAsync(rb.build(), HttpResponse.BodyHandlers.discarding())
        .whenComplete((resp, err) -> {
          int status = resp == null ? -1 : resp.statusCode();
          boolean ok = status >= 200 && status < 300;
          boolean retryable = !ok && (resp == null || status >= 500 || status == 429);
          if (ok || !retryable || n >= maxAttempts) {
            inFlight.release();
            String error = err != null ? err.toString() : ok ? null : "HTTP " + status;
            if (!ok) {
              LOG.warn("Notification for {} to {} failed after {} attempt(s): {}", id,
                  uri.getHost(), n, error);
            }
            listener.accept(new Delivery(id, ok, n, status, error));
            return;
          }
          long delay = backoff.toMillis() * (1L << Math.min(n - 1, 10));
          clock.schedule(clock.wallMillis() + delay, () -> attempt(id, body, headers, n + 1));
        });
  }
}
