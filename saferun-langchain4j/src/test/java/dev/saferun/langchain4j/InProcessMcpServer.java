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

/**
 * A small MCP server running in the test's JVM: JSON-RPC 2.0 over the Streamable HTTP transport
 * on the loopback interface ({@code initialize}, {@code notifications/initialized},
 * {@code ping}, {@code tools/list}, {@code tools/call}). It serves a CRM with three tools and
 * records every {@code tools/call} it receives, so a test can tell which calls reached the
 * server. A refund for customer {@code cus_err} fails with an MCP error result.
 */
final class InProcessMcpServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SESSION = "mcp-session-1";

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<String> calls = new ArrayList<>();

  InProcessMcpServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/mcp", this::handle);
    server.setExecutor(threads);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/mcp";
  }

  /** {@code tools/call} requests received, as {@code name arguments}. */
  List<String> calls() {
    synchronized (calls) {
      return List.copyOf(calls);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"POST".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      JsonNode message = JSON.readTree(exchange.getRequestBody());
      exchange.getResponseHeaders().set("Mcp-Session-Id", SESSION);
      if (!message.has("id")) {
        exchange.sendResponseHeaders(202, -1); // a notification
        return;
      }
      ObjectNode response = JSON.createObjectNode().put("jsonrpc", "2.0");
      response.set("id", message.get("id"));
      String method = message.path("method").asText();
      switch (method) {
        case "initialize" -> {
          ObjectNode result = response.putObject("result");
          result.put("protocolVersion", message.path("params").path("protocolVersion")
              .asText("2025-06-18"));
          result.putObject("capabilities").putObject("tools").put("listChanged", false);
          result.putObject("serverInfo").put("name", "crm").put("version", "1.0");
        }
        case "ping" -> response.putObject("result");
        case "tools/list" -> response.putObject("result").set("tools", tools());
        case "tools/call" -> response.set("result", call(message.path("params")));
        default -> response.putObject("error").put("code", -32601)
            .put("message", "Method not found: " + method);
      }
      byte[] bytes = response.toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private static ArrayNode tools() {
    ArrayNode tools = JSON.createArrayNode();
    tool(tools, "lookup_customer", "Finds a customer", false, "customerId");
    tool(tools, "create_refund", "Refunds dollars to a customer", false, "customerId", "amount");
    tool(tools, "delete_customer", "Deletes a customer", true, "customerId");
    return tools;
  }

  private static void tool(ArrayNode tools, String name, String description, boolean destructive,
      String... params) {
    ObjectNode t = tools.addObject().put("name", name).put("description", description);
    ObjectNode schema = t.putObject("inputSchema").put("type", "object");
    ObjectNode props = schema.putObject("properties");
    ArrayNode required = schema.putArray("required");
    for (String p : params) {
      props.putObject(p).put("type", p.equals("amount") ? "integer" : "string");
      required.add(p);
    }
    t.putObject("annotations").put("destructiveHint", destructive);
  }

  private ObjectNode call(JsonNode params) {
    String name = params.path("name").asText();
    JsonNode args = params.path("arguments");
    synchronized (calls) {
      calls.add(name + " " + args);
    }
    ObjectNode result = JSON.createObjectNode();
    boolean error = "cus_err".equals(args.path("customerId").asText());
    String text = error ? "Payment gateway refused the refund"
        : switch (name) {
          case "lookup_customer" -> "{\"id\":\"" + args.path("customerId").asText() + "\"}";
          case "create_refund" -> "Refunded $" + args.path("amount").asInt() + " to "
              + args.path("customerId").asText();
          default -> "Deleted " + args.path("customerId").asText();
        };
    result.putArray("content").addObject().put("type", "text").put("text", text);
    result.put("isError", error);
    return result;
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
