package dev.saferun.langchain4j;

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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * An OpenAI-compatible {@code POST /v1/chat/completions} endpoint on the loopback interface that
 * answers from a script and records every request body, for the real {@code OpenAiChatModel}
 * and {@code OpenAiStreamingChatModel}. Answers as a stream when the request asks for one.
 */
final class FakeOpenAi implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  /** What the scripted model says: tool calls, or a final text. */
  record Reply(List<ToolCallReply> toolCalls, String text) {
    static Reply text(String text) {
      return new Reply(List.of(), text);
    }

    static Reply calls(List<ToolCallReply> calls) {
      return new Reply(List.copyOf(calls), null);
    }

    static Reply call(String id, String name, String arguments) {
      return calls(List.of(new ToolCallReply(id, name, arguments)));
    }
  }

  /** One tool call in a reply. */
  record ToolCallReply(String id, String name, String arguments) {}

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final Function<JsonNode, Reply> script;
  private final List<JsonNode> requests = new ArrayList<>();

  FakeOpenAi(Function<JsonNode, Reply> script) throws IOException {
    this.script = script;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/chat/completions", this::handle);
    server.setExecutor(threads);
    server.start();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  /** Every request body received, parsed. */
  List<JsonNode> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /** Tool names advertised in the n-th request. */
  List<String> advertisedTools(int n) {
    List<String> out = new ArrayList<>();
    requests().get(n).path("tools").forEach(t -> out.add(t.path("function").path("name").asText()));
    return out;
  }

  /** The {@code role: tool} messages of the n-th request. */
  static List<JsonNode> toolMessages(JsonNode request) {
    List<JsonNode> out = new ArrayList<>();
    request.path("messages").forEach(m -> {
      if ("tool".equals(m.path("role").asText())) {
        out.add(m);
      }
    });
    return out;
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      JsonNode body = JSON.readTree(exchange.getRequestBody());
      synchronized (requests) {
        requests.add(body);
      }
      Reply reply = script.apply(body);
      boolean stream = body.path("stream").asBoolean(false);
      byte[] bytes = (stream ? stream(reply) : completion(reply))
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type",
          stream ? "text/event-stream" : "application/json");
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private static String completion(Reply reply) {
    ObjectNode root = JSON.createObjectNode().put("id", "chatcmpl-test")
        .put("object", "chat.completion").put("created", 1767225600L).put("model", "gpt-4o-mini");
    ObjectNode choice = root.putArray("choices").addObject().put("index", 0);
    ObjectNode message = choice.putObject("message").put("role", "assistant");
    if (reply.text() != null) {
      message.put("content", reply.text());
      choice.put("finish_reason", "stop");
    } else {
      message.putNull("content");
      ArrayNode calls = message.putArray("tool_calls");
      for (ToolCallReply c : reply.toolCalls()) {
        ObjectNode call = calls.addObject().put("id", c.id()).put("type", "function");
        call.putObject("function").put("name", c.name()).put("arguments", c.arguments());
      }
      choice.put("finish_reason", "tool_calls");
    }
    root.putObject("usage").put("prompt_tokens", 10).put("completion_tokens", 5)
        .put("total_tokens", 15);
    return root.toString();
  }

  /** The same reply as server-sent chunks: arguments arrive in two fragments per call. */
  private static String stream(Reply reply) {
    StringBuilder sse = new StringBuilder();
    if (reply.text() != null) {
      int half = reply.text().length() / 2;
      sse.append(chunk(delta().put("role", "assistant").put("content",
          reply.text().substring(0, half)), null));
      sse.append(chunk(delta().put("content", reply.text().substring(half)), null));
      sse.append(chunk(delta(), "stop"));
    } else {
      for (int i = 0; i < reply.toolCalls().size(); i++) {
        ToolCallReply c = reply.toolCalls().get(i);
        ObjectNode first = delta();
        if (i == 0) {
          first.put("role", "assistant").putNull("content");
        }
        ObjectNode call = first.putArray("tool_calls").addObject().put("index", i)
            .put("id", c.id()).put("type", "function");
        call.putObject("function").put("name", c.name()).put("arguments", "");
        sse.append(chunk(first, null));
        int half = c.arguments().length() / 2;
        for (String part : List.of(c.arguments().substring(0, half),
            c.arguments().substring(half))) {
          ObjectNode d = delta();
          d.putArray("tool_calls").addObject().put("index", i).putObject("function")
              .put("arguments", part);
          sse.append(chunk(d, null));
        }
      }
      sse.append(chunk(delta(), "tool_calls"));
    }
    sse.append("data: [DONE]\n\n");
    return sse.toString();
  }

  private static ObjectNode delta() {
    return JSON.createObjectNode();
  }

  private static String chunk(ObjectNode delta, String finishReason) {
    ObjectNode root = JSON.createObjectNode().put("id", "chatcmpl-test")
        .put("object", "chat.completion.chunk").put("created", 1767225600L)
        .put("model", "gpt-4o-mini");
    ObjectNode choice = root.putArray("choices").addObject().put("index", 0);
    choice.set("delta", delta);
    if (finishReason == null) {
      choice.putNull("finish_reason");
    } else {
      choice.put("finish_reason", finishReason);
    }
    return "data: " + root + "\n\n";
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
