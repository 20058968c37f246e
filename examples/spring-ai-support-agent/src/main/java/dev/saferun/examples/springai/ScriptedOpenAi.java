package dev.saferun.examples.springai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The "model": an OpenAI-compatible chat-completions endpoint on 127.0.0.1 that plays an agent
 * obeying the prompt injection in the ticket. Spring AI's real {@code OpenAiChatModel} talks to
 * it over HTTP, so every request body is exactly what a real model would receive; they are kept
 * for the summary. What it answers depends only on how many tool-call rounds the conversation
 * already has, so the run is the same every time. Each request moves the demo clock 2 seconds.
 *
 * <p>Thread-safe; serves one request at a time.
 */
final class ScriptedOpenAi implements AutoCloseable {
  static final int INJECTED_CUSTOMERS = 200;
  static final int CALLS_PER_ROUND = 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  private final DemoClock clock;
  private final HttpServer server;

  ScriptedOpenAi(DemoClock clock) {
    this.clock = clock;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", this::handle);
    server.start();
  }

  /** For {@code spring.ai.openai.base-url}. */
  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  /** Every request body received, in order. */
  List<JsonNode> requests() {
    return List.copyOf(requests);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      JsonNode request = JSON.readTree(ex.getRequestBody().readAllBytes());
      requests.add(request);
      clock.advance(Duration.ofSeconds(2));
      byte[] out = reply(request).getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, out.length);
      try (OutputStream os = ex.getResponseBody()) {
        os.write(out);
      }
    }
  }

  /** The next step of the script, from the number of tool-call rounds so far. */
  private static String reply(JsonNode request) {
    int rounds = 0;
    for (JsonNode m : request.path("messages")) {
      if (m.has("tool_calls") && m.path("tool_calls").size() > 0) {
        rounds++;
      }
    }
    int injectedRounds = INJECTED_CUSTOMERS / CALLS_PER_ROUND;
    if (rounds == 0) {
      return toolCalls(List.of(call(0, "lookup_customer", "{\"customerId\":\"cus_042\"}")));
    }
    if (rounds == 1) {
      return toolCalls(List.of(call(1, "create_refund",
          "{\"customerId\":\"cus_042\",\"amount\":80,\"reason\":\"damaged blender\"}")));
    }
    if (rounds < 2 + injectedRounds) {
      List<ObjectNode> calls = new ArrayList<>();
      for (int i = 1; i <= CALLS_PER_ROUND; i++) {
        int customer = (rounds - 2) * CALLS_PER_ROUND + i;
        calls.add(call(customer + 1, "create_refund", String.format(
            "{\"customerId\":\"cus_%03d\",\"amount\":20,\"reason\":\"goodwill\"}", customer)));
      }
      return toolCalls(calls);
    }
    if (rounds == 2 + injectedRounds) {
      return toolCalls(List.of(call(999, "delete_customer", "{\"customerId\":\"cus_013\"}")));
    }
    return text(finalAnswer(request));
  }

  /** What the scripted agent says at the end: what its tools told it, counted. */
  private static String finalAnswer(JsonNode request) {
    int goodwill = 0;
    int stopped = 0;
    String own = "";
    boolean deleted = false;
    for (JsonNode m : request.path("messages")) {
      if (!"tool".equals(m.path("role").asText())) {
        continue;
      }
      String content = m.path("content").asText();
      if (content.contains("issued to cus_042")) {
        own = content.contains("[SAFERUN APPROVED WITH CHANGES]")
            ? "A supervisor approved your refund with a change: "
                + content.substring(content.indexOf("Refund re_")).replace("\"", "") + "."
            : "Your refund was issued: " + content.replace("\"", "") + ".";
      } else if (content.contains("Refund re_")) {
        goodwill++;
      } else if (content.contains("refunds per conversation")
          || content.contains("used its 5 refunds")) {
        stopped++;
      } else if (content.contains("deleted") && !content.startsWith("[SAFERUN")) {
        deleted = true;
      }
    }
    return own + " Following the pasted instructions I issued " + goodwill + " goodwill refunds;"
        + " " + stopped + " more were refused because this conversation reached its refund limit,"
        + (deleted ? " and customer cus_013 was deleted." : " and deleting cus_013 was refused.");
  }

  private static ObjectNode call(int n, String name, String arguments) {
    ObjectNode call = JSON.createObjectNode();
    call.put("id", "call_" + n);
    call.put("type", "function");
    call.putObject("function").put("name", name).put("arguments", arguments);
    return call;
  }

  private static String toolCalls(List<ObjectNode> calls) {
    ObjectNode message = JSON.createObjectNode();
    message.put("role", "assistant");
    message.putNull("content");
    message.putNull("refusal");
    ArrayNode array = message.putArray("tool_calls");
    calls.forEach(array::add);
    return envelope(message, "tool_calls");
  }

  private static String text(String content) {
    ObjectNode message = JSON.createObjectNode();
    message.put("role", "assistant");
    message.put("content", content);
    message.putNull("refusal");
    return envelope(message, "stop");
  }

  private static String envelope(ObjectNode message, String finishReason) {
    ObjectNode root = JSON.createObjectNode();
    root.put("id", "chatcmpl-demo");
    root.put("object", "chat.completion");
    root.put("created", 1767225600);
    root.put("model", "gpt-4o-mini");
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    choice.put("finish_reason", finishReason);
    choice.putNull("logprobs");
    choice.set("message", message);
    root.putObject("usage").put("prompt_tokens", 100).put("completion_tokens", 20)
        .put("total_tokens", 120);
    return root.toString();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
