package dev.saferun.approval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.saferun.Clock;
import dev.saferun.internal.approval.HttpPoster;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Posts each new approval request to a Slack incoming webhook as a readable message: tool, rule,
 * policy, the message, <em>redacted</em> arguments, context, expiry and id (and, when configured,
 * where to approve). Text from the call is escaped ({@code & < >}), so arguments cannot inject
 * mentions or links into the channel.
 *
 * <p>Same delivery guarantees as {@link WebhookNotifier}: never blocks the decision path,
 * timeout, bounded retries. Thread-safe.
 */
public final class SlackNotifier implements OnPause {
  private final HttpPoster poster;
  private final String approveUrlBase;

  private SlackNotifier(URI url, Duration timeout, int maxAttempts, Duration backoff, Clock clock,
      HttpClient client, String approveUrlBase) {
    this.poster = new HttpPoster(client, url, timeout, maxAttempts, backoff, clock, 256,
        d -> { });
    this.approveUrlBase = approveUrlBase;
  }

  /** A notifier for a Slack incoming-webhook URL, with defaults (5 s timeout, 3 attempts). */
  public static SlackNotifier of(URI webhookUrl) {
    return builder(webhookUrl).build();
  }

  public static Builder builder(URI webhookUrl) {
    return new Builder(webhookUrl);
  }

  @Override
  public void onPause(ApprovalRequest r) {
    poster.post(r.id(), message(r).toString(), Map::of);
  }

  /** The Slack message for a request (exposed for tests and previews). */
  public ObjectNode message(ApprovalRequest r) {
    String context = r.context().asMap().entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
    StringBuilder text = new StringBuilder()
        .append(":raised_hand: *Approval needed* for `").append(escape(r.tool())).append("`\n")
        .append("*Rule:* ").append(escape(r.rule())).append(" (policy ")
        .append(escape(r.policy())).append(")\n")
        .append("*Why:* ").append(escape(r.message())).append('\n')
        .append("*Arguments:* `").append(escape(r.redactedArguments())).append("`\n");
    if (!context.isEmpty()) {
      text.append("*Context:* ").append(escape(context)).append('\n');
    }
    text.append("*Expires:* ").append(r.expiresAt()).append('\n')
        .append("*Id:* `").append(r.id()).append('`');
    if (approveUrlBase != null) {
      text.append("\n*Decide:* POST ").append(approveUrlBase).append("/approvals/")
          .append(r.id()).append("/approve or /deny");
    }
    ObjectNode msg = Notifications.JSON.createObjectNode();
    msg.put("text", "Approval needed for " + escape(r.tool()) + " (" + r.id() + ")");
    ArrayNode blocks = msg.putArray("blocks");
    ObjectNode section = blocks.addObject();
    section.put("type", "section");
    ObjectNode t = section.putObject("text");
    t.put("type", "mrkdwn");
    t.put("text", text.toString());
    return msg;
  }

  /** Slack's required escaping for text: {@code & < >}. */
  static String escape(String s) {
    if (s == null) {
      return "";
    }
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'");
  }

  /** Configures a {@link SlackNotifier}. Not thread-safe. */
  public static final class Builder {
    private final URI url;
    private Duration timeout = Duration.ofSeconds(5);
    private int maxAttempts = 3;
    private Duration backoff = Duration.ofSeconds(1);
    private Clock clock = Clock.system();
    private HttpClient client;
    private String approveUrlBase;

    private Builder(URI url) {
      this.url = Objects.requireNonNull(url, "webhookUrl");
    }

    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder retries(int maxAttempts, Duration backoff) {
      if (maxAttempts < 1 || maxAttempts > 10) {
        throw new IllegalArgumentException("maxAttempts must be 1..10, got " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public Builder httpClient(HttpClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /** Base URL of an {@link ApprovalHttpHandler}, shown in the message. Optional. */
    public Builder approveUrlBase(String base) {
      this.approveUrlBase = base;
      return this;
    }

    public SlackNotifier build() {
      HttpClient c = client != null ? client
          : HttpClient.newBuilder().connectTimeout(timeout).build();
      return new SlackNotifier(url, timeout, maxAttempts, backoff, clock, c, approveUrlBase);
    }
  }
}
