package dev.saferun.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;

/** JSON views of approval requests shared by notifiers and the HTTP handler. Stateless. */
final class Notifications {
  static final ObjectMapper JSON = new ObjectMapper();

  private Notifications() {}

  /** The request as JSON, with redacted arguments only. */
  static ObjectNode request(ApprovalRequest r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", r.id());
    n.put("tool", r.tool());
    n.set("arguments", parse(r.redactedArguments()));
    n.put("policy", r.policy());
    n.put("rule", r.rule());
    n.put("message", r.message());
    n.set("context", JSON.valueToTree(r.context().asMap()));
    n.put("createdAt", r.createdAt().toString());
    n.put("expiresAt", r.expiresAt().toString());
    return n;
  }

  /** The record as JSON: the request plus state, approver, reason, decision time. */
  static ObjectNode record(ApprovalRecord r) {
    ObjectNode n = request(r.request());
    n.put("state", r.state().name().toLowerCase());
    if (r.approver() != null) {
      n.put("approver", r.approver());
    }
    if (r.reason() != null) {
      n.put("reason", r.reason());
    }
    if (r.decidedAt() != null) {
      n.put("decidedAt", r.decidedAt().toString());
    }
    n.put("edited", r.edited());
    return n;
  }

  static JsonNode parse(String json) {
    try {
      return json == null ? JSON.createObjectNode() : JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
