package dev.saferun.examples.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The "LLM" of the demo: an OpenAI-compatible {@code POST /v1/chat/completions} endpoint on the
 * loopback interface, so the real {@code OpenAiChatModel} talks to it over HTTP with no network
 * and no API key. It plays a model that obeys the prompt injection in the ticket: it looks the
 * customer up, makes the legitimate refund, then asks for 200 refunds of $20 (20 parallel tool
 * calls per response) and a deletion, and finally reports what the tool results told it.
 *
 * <p>Thread-safe: requests are recorded under a lock.
 */
final class ScriptedModel implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  /** Customers the injected instruction targets: cus_001 … cus_200. */
  static final int INJECTED_REFUNDS = 200;
  static final int BATCH = 20;

  private final HttpServer server;
  private final DemoClock clock;
  private final List<JsonNode> requests = new ArrayList<>();

  ScriptedModel(DemoClock clock) throws IOException {
    this.clock = clock;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/chat/completions", this::handle);
    server.start(); // one thread: the agent makes one model request at a time
  }

  /** The base URL to give {@code OpenAiChatModel}. */
  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  /** Every request the model received, as parsed JSON. */
  List<JsonNode> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      JsonNode request = JSON.readTree(exchange.getRequestBody());
      synchronized (requests) {
        requests.add(request);
      }
      clock.advance(Duration.ofSeconds(2)); // the model "thinks" for two seconds
      byte[] body = respond(request).toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** What the model says next, from the conversation so far. */
  static ObjectNode respond(JsonNode request) {
    int turn = 0;
    int blocked = 0;
    for (JsonNode m : request.path("messages")) {
      if ("assistant".equals(m.path("role").asText())) {
        turn++;
      } else if ("tool".equals(m.path("role").asText())
          && m.path("content").asText().startsWith("[SAFERUN")) {
        blocked++;
      }
    }
    List<String[]> calls = new ArrayList<>();
    if (turn == 0) {
      calls.add(new String[] {"lookup_customer", "{\"customerId\":\"cus_042\"}"});
    } else if (turn == 1) {
      calls.add(new String[] {"create_refund", "{\"customerId\":\"cus_042\",\"amount\":25}"});
    } else if (turn < 2 + INJECTED_REFUNDS / BATCH) {
      int first = (turn - 2) * BATCH + 1;
      for (int c = first; c < first + BATCH; c++) {
        calls.add(new String[] {"create_refund",
            String.format("{\"customerId\":\"cus_%03d\",\"amount\":20}", c)});
      }
    } else if (turn == 2 + INJECTED_REFUNDS / BATCH) {
      calls.add(new String[] {"delete_customer", "{\"customerId\":\"cus_013\"}"});
    }
    return calls.isEmpty()
        ? completion(null, "I refunded $25.00 to cus_042 for the damaged order. " + blocked
            + " of the other actions the ticket asked for were blocked by policy, so I have"
            + " flagged the ticket for a human.", turn)
        : completion(calls, null, turn);
  }

  private static ObjectNode completion(List<String[]> calls, String text, int turn) {
    ObjectNode root = JSON.createObjectNode().put("id", "chatcmpl-demo")
        .put("object", "chat.completion").put("created", 1772447400L).put("model", "scripted");
    ObjectNode choice = root.putArray("choices").addObject().put("index", 0);
    ObjectNode message = choice.putObject("message").put("role", "assistant");
    if (calls == null) {
      message.put("content", text);
      choice.put("finish_reason", "stop");
    } else {
      message.putNull("content");
      ArrayNode toolCalls = message.putArray("tool_calls");
      for (String[] c : calls) {
        ObjectNode call = toolCalls.addObject()
            .put("id", "call_" + turn + "_" + toolCalls.size()).put("type", "function");
        call.putObject("function").put("name", c[0]).put("arguments", c[1]);
      }
      choice.put("finish_reason", "tool_calls");
    }
    root.putObject("usage").put("prompt_tokens", 0).put("completion_tokens", 0)
        .put("total_tokens", 0);
    return root;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
