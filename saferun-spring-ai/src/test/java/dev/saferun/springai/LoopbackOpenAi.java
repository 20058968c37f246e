package dev.saferun.springai;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An OpenAI chat-completions endpoint on the loopback interface that answers from a queue and
 * records every request body, so tests can assert on exactly what the real OpenAI client sent.
 */
public final class LoopbackOpenAi implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  public final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  private final Queue<String> replies = new ConcurrentLinkedQueue<>();
  private final HttpServer server;

  public LoopbackOpenAi() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", this::handle);
    server.start();
  }

  /** The base URL for {@code OpenAiChatOptions.baseUrl} / {@code spring.ai.openai.base-url}. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  public LoopbackOpenAi thenToolCalls(String[]... idNameArgs) {
    ArrayNode calls = JSON.createArrayNode();
    for (String[] c : idNameArgs) {
      ObjectNode call = calls.addObject();
      call.put("id", c[0]);
      call.put("type", "function");
      call.putObject("function").put("name", c[1]).put("arguments", c[2]);
    }
    ObjectNode message = JSON.createObjectNode();
    message.put("role", "assistant");
    message.putNull("content");
    message.putNull("refusal");
    message.set("tool_calls", calls);
    replies.add(envelope(message, "tool_calls"));
    return this;
  }

  public LoopbackOpenAi thenText(String text) {
    ObjectNode message = JSON.createObjectNode();
    message.put("role", "assistant");
    message.put("content", text);
    message.putNull("refusal");
    replies.add(envelope(message, "stop"));
    return this;
  }

  private static String envelope(ObjectNode message, String finishReason) {
    ObjectNode root = JSON.createObjectNode();
    root.put("id", "chatcmpl-1");
    root.put("object", "chat.completion");
    root.put("created", 1700000000);
    root.put("model", "gpt-4o-mini");
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    choice.put("finish_reason", finishReason);
    choice.putNull("logprobs");
    choice.set("message", message);
    root.putObject("usage").put("prompt_tokens", 10).put("completion_tokens", 5)
        .put("total_tokens", 15);
    return root.toString();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      byte[] body = ex.getRequestBody().readAllBytes();
      requests.add(JSON.readTree(body));
      String reply = replies.poll();
      byte[] out = (reply == null ? "{\"error\":{\"message\":\"script is over\"}}" : reply)
          .getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(reply == null ? 500 : 200, out.length);
      try (OutputStream os = ex.getResponseBody()) {
        os.write(out);
      }
    }
  }

  /** Names of the tools offered in request {@code i}. */
  public List<String> toolNames(int i) {
    List<String> names = new ArrayList<>();
    for (JsonNode t : requests.get(i).path("tools")) {
      names.add(t.path("function").path("name").asText());
    }
    return names;
  }

  /** The {@code role: tool} messages of request {@code i}. */
  public List<JsonNode> toolMessages(int i) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode m : requests.get(i).path("messages")) {
      if ("tool".equals(m.path("role").asText())) {
        out.add(m);
      }
    }
    return out;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
