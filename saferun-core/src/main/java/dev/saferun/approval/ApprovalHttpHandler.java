package dev.saferun.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.saferun.internal.http.JsonHttp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP API over {@link Approvals}, on the JDK's built-in server, so operators approve
 * from a script or a chat-ops bot. Every request needs {@code Authorization: Bearer <token>}
 * (compared in constant time), else 401.
 *
 * <ul>
 *   <li>{@code GET /approvals} — pending requests (redacted arguments only), oldest first.</li>
 *   <li>{@code GET /approvals/{id}} — one request and its state; 404 if unknown.</li>
 *   <li>{@code POST /approvals/{id}/approve} with {@code {"by": "alice"}} and optionally
 *       {@code "args": {...}} (edited arguments) — 200 with the record.</li>
 *   <li>{@code POST /approvals/{id}/deny} with {@code {"by": "bob", "reason": "..."}}.</li>
 * </ul>
 * A second decision gets 409, a decision on an expired request 410, an unknown id 404, a body
 * without {@code by} or with non-object {@code args} 400. The token authenticates the caller; the
 * {@code by} identity is what the audit log records.
 *
 * <p>Thread-safe.
 */
public final class ApprovalHttpHandler implements HttpHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ApprovalHttpHandler.class);

  private final Approvals approvals;
  private final byte[] token;

  /**
   * @param approvals what to operate on ({@code safeRun.approvals()})
   * @param bearerToken the shared secret callers present; at least 16 characters
   */
  public ApprovalHttpHandler(Approvals approvals, String bearerToken) {
    this.approvals = Objects.requireNonNull(approvals, "approvals");
    this.token = JsonHttp.bearerToken(bearerToken, "approval");
  }

  /**
   * Starts a server with this handler at {@code /approvals}. Stop it with
   * {@link HttpServer#stop(int)}.
   */
  public static HttpServer start(InetSocketAddress address, Approvals approvals,
      String bearerToken) throws IOException {
    HttpServer server = HttpServer.create(address, 0);
    server.createContext("/approvals", new ApprovalHttpHandler(approvals, bearerToken));
    server.start();
    return server;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try (ex) {
      if (!JsonHttp.authorized(ex, token)) {
        return;
      }
      String path = ex.getRequestURI().getPath();
      String[] parts = path.replaceAll("/+$", "").split("/");
      // parts: ["", "approvals", id?, action?]
      String method = ex.getRequestMethod();
      try {
        if (parts.length == 2 && method.equals("GET")) {
          ArrayNode list = Notifications.JSON.createArrayNode();
          for (ApprovalRecord r : approvals.pending()) {
            list.add(Notifications.record(r));
          }
          JsonHttp.send(ex, 200, list.toString());
        } else if (parts.length == 3 && method.equals("GET")) {
          JsonHttp.send(ex, 200, Notifications.record(approvals.get(parts[2])).toString());
        } else if (parts.length == 4 && method.equals("POST")
            && (parts[3].equals("approve") || parts[3].equals("deny"))) {
          decide(ex, parts[2], parts[3].equals("approve"));
        } else {
          JsonHttp.send(ex, 404, JsonHttp.error("no such endpoint: " + method + " " + path));
        }
      } catch (ApprovalException e) {
        int status = switch (e.reason()) {
          case NOT_FOUND -> 404;
          case ALREADY_DECIDED -> 409;
          case EXPIRED -> 410;
          case INVALID_ARGUMENTS -> 400;
        };
        JsonHttp.send(ex, status, JsonHttp.error(e.getMessage()));
      } catch (IllegalArgumentException e) {
        JsonHttp.send(ex, 400, JsonHttp.error(e.getMessage()));
      } catch (RuntimeException e) {
        LOG.error("Approval API failed on {} {}", method, path, e);
        JsonHttp.send(ex, 500,
            JsonHttp.error("internal error: " + e.getClass().getSimpleName()));
      }
    }
  }

  private void decide(HttpExchange ex, String id, boolean approve) throws IOException {
    JsonNode body = JsonHttp.objectBody(ex);
    String by = body.path("by").asText("");
    if (by.isBlank()) {
      throw new IllegalArgumentException("body needs \"by\": the approver's identity");
    }
    ApprovalRecord r;
    if (approve) {
      JsonNode args = body.get("args");
      if (args != null && !args.isNull()) {
        if (!args.isObject()) {
          throw new IllegalArgumentException("\"args\" must be a JSON object");
        }
        r = approvals.approve(id, by, args.toString());
      } else {
        r = approvals.approve(id, by);
      }
    } else {
      r = approvals.deny(id, by, body.path("reason").asText(null));
    }
    JsonHttp.send(ex, 200, Notifications.record(r).toString());
  }

}
