package dev.saferun.springai;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * An MCP client transport over a pair of in-process streams: the client half of the stdio
 * transport, talking to a real MCP server (its {@code StdioServerTransportProvider}) without a
 * child process. Newline-delimited JSON-RPC, as stdio is.
 */
final class PipeClientTransport implements McpClientTransport {
  private final McpJsonMapper json;
  private final InputStream fromServer;
  private final OutputStream toServer;

  PipeClientTransport(McpJsonMapper json, InputStream fromServer, OutputStream toServer) {
    this.json = json;
    this.fromServer = fromServer;
    this.toServer = toServer;
  }

  @Override
  public Mono<Void> connect(
      Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
    return Mono.fromRunnable(() -> {
      Thread reader = new Thread(() -> read(handler), "mcp-test-client-reader");
      reader.setDaemon(true);
      reader.start();
    });
  }

  private void read(
      Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(fromServer, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        McpSchema.JSONRPCMessage m = McpSchema.deserializeJsonRpcMessage(json, line);
        handler.apply(Mono.just(m)).subscribe(reply -> sendMessage(reply).block());
      }
    } catch (IOException e) {
      // closed
    }
  }

  @Override
  public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
    return Mono.fromRunnable(() -> {
      try {
        byte[] line = (json.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (toServer) {
          toServer.write(line);
          toServer.flush();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  @Override
  public Mono<Void> closeGracefully() {
    return Mono.fromRunnable(() -> {
      try {
        toServer.close();
      } catch (IOException e) {
        // already closed
      }
    });
  }

  @Override
  public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
    return json.convertValue(data, typeRef);
  }
}
