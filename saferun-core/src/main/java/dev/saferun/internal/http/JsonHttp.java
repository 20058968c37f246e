package dev.saferun.internal.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * What the approval and kill-switch HTTP APIs share: the bearer-token check (constant-time),
 * JSON object bodies with a size bound, and JSON responses. Stateless; thread-safe.
 */
public final class JsonHttp {
  /** Largest request body read; a larger one is refused (400), never truncated. */
  public static final int MAX_BODY = 256 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonHttp() {}

  /**
   * The token's bytes, after checking it is long enough to be a secret.
   *
   * @param api named in the error, e.g. {@code approval}
   * @throws IllegalArgumentException when shorter than 16 characters
   */
  public static byte[] bearerToken(String token, String api) {
    if (token == null || token.length() < 16) {
      throw new IllegalArgumentException("the " + api
          + " API token must be at least 16 characters");
    }
    return token.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Whether the request carries {@code Authorization: Bearer <token>}; when it does not, answers
   * 401 with {@code WWW-Authenticate: Bearer}.
   */
  public static boolean authorized(HttpExchange ex, byte[] token) throws IOException {
    String header = ex.getRequestHeaders().getFirst("Authorization");
    if (header != null && header.startsWith("Bearer ") && MessageDigest.isEqual(
        header.substring(7).trim().getBytes(StandardCharsets.UTF_8), token)) {
      return true;
    }
    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
    send(ex, 401, error("missing or wrong bearer token"));
    return false;
  }

  /**
   * The request body as a JSON object ({@code {}} when empty).
   *
   * @throws IllegalArgumentException when larger than {@link #MAX_BODY} or not a JSON object
   */
  public static JsonNode objectBody(HttpExchange ex) throws IOException {
    byte[] raw = ex.getRequestBody().readNBytes(MAX_BODY + 1);
    if (raw.length > MAX_BODY) {
      throw new IllegalArgumentException("body larger than " + MAX_BODY + " bytes");
    }
    JsonNode n;
    try {
      n = raw.length == 0 ? JSON.createObjectNode() : JSON.readTree(raw);
    } catch (IOException e) {
      throw new IllegalArgumentException("body must be a JSON object");
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("body must be a JSON object");
    }
    return n;
  }

  /** {@code {"error": message}}. */
  public static String error(String message) {
    return JSON.createObjectNode().put("error", message).toString();
  }

  /** Sends a JSON response with this status. */
  public static void send(HttpExchange ex, int status, String json) throws IOException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }
}
