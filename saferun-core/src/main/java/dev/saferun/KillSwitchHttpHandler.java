package dev.saferun;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.saferun.internal.http.JsonHttp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The kill switch over HTTP, on the JDK's built-in server, for incident response from a script or
 * a chat-ops bot. Every request needs {@code Authorization: Bearer <token>} (constant-time
 * comparison), else 401.
 *
 * <ul>
 *   <li>{@code GET /kill-switch} — the state.</li>
 *   <li>{@code POST /kill-switch/engage} with {@code {"by": "alice", "reason": "...",
 *       "tools": [...], "agents": [...]}} (no tools and no agents: every call).</li>
 *   <li>{@code POST /kill-switch/release} with {@code {"by": "alice"}}.</li>
 * </ul>
 * A body without {@code by} gets 400. Thread-safe.
 */
public final class KillSwitchHttpHandler implements HttpHandler {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KillSwitch killSwitch;
  private final byte[] token;

  /**
   * @param killSwitch the switch ({@code safeRun.killSwitch()})
   * @param bearerToken the shared secret callers present; at least 16 characters
   */
  public KillSwitchHttpHandler(KillSwitch killSwitch, String bearerToken) {
    this.killSwitch = Objects.requireNonNull(killSwitch, "killSwitch");
    this.token = JsonHttp.bearerToken(bearerToken, "kill switch");
  }

  /** Starts a server with this handler at {@code /kill-switch}. */
  public static HttpServer start(InetSocketAddress address, KillSwitch killSwitch,
      String bearerToken) throws IOException {
    HttpServer server = HttpServer.create(address, 0);
    server.createContext("/kill-switch", new KillSwitchHttpHandler(killSwitch, bearerToken));
    server.start();
    return server;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try (ex) {
      if (!JsonHttp.authorized(ex, token)) {
        return;
      }
      String path = ex.getRequestURI().getPath().replaceAll("/+$", "");
      String method = ex.getRequestMethod();
      try {
        if (path.equals("/kill-switch") && method.equals("GET")) {
          JsonHttp.send(ex, 200, state(killSwitch.state()));
        } else if (path.equals("/kill-switch/engage") && method.equals("POST")) {
          JsonNode body = JsonHttp.objectBody(ex);
          killSwitch.engage(strings(body.get("tools")), strings(body.get("agents")),
              body.path("reason").asText(""), by(body));
          JsonHttp.send(ex, 200, state(killSwitch.state()));
        } else if (path.equals("/kill-switch/release") && method.equals("POST")) {
          killSwitch.release(by(JsonHttp.objectBody(ex)));
          JsonHttp.send(ex, 200, state(killSwitch.state()));
        } else {
          JsonHttp.send(ex, 404, JsonHttp.error("no such endpoint: " + method + " " + path));
        }
      } catch (IllegalArgumentException e) {
        JsonHttp.send(ex, 400, JsonHttp.error(e.getMessage()));
      }
    }
  }

  private static String by(JsonNode body) {
    String by = body.path("by").asText("");
    if (by.isBlank()) {
      throw new IllegalArgumentException("body needs \"by\": who does it (audited)");
    }
    return by;
  }

  private static Set<String> strings(JsonNode n) {
    Set<String> out = new LinkedHashSet<>();
    if (n != null && n.isArray()) {
      n.forEach(x -> out.add(x.asText()));
    }
    return out;
  }

  private static String state(KillSwitch.State s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("engaged", s.engaged());
    n.set("tools", JSON.valueToTree(s.tools()));
    n.set("agents", JSON.valueToTree(s.agents()));
    n.put("reason", s.reason());
    n.put("by", s.by());
    n.put("since", s.since() == null ? null : s.since().toString());
    return n.toString();
  }

}
