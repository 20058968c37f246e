package dev.saferun.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.saferun.CallContext;
import dev.saferun.approval.ApprovalRecord;
import dev.saferun.approval.ApprovalRequest;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Approval records as explicit JSON objects, field by field (no class names, no polymorphic
 * typing), so a record written by one replica reads back identically on another. Stateless.
 */
final class ApprovalJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ApprovalJson() {}

  static String write(ApprovalRecord r) {
    ApprovalRequest q = r.request();
    ObjectNode o = MAPPER.createObjectNode();
    o.put("id", q.id());
    o.put("tool", q.tool());
    o.put("arguments", q.arguments());
    o.put("redactedArguments", q.redactedArguments());
    o.put("argumentsHash", q.argumentsHash());
    o.put("policy", q.policy());
    o.put("policyVersion", q.policyVersion());
    o.put("rule", q.rule());
    o.put("message", q.message());
    ObjectNode ctx = o.putObject("context");
    q.context().asMap().forEach(ctx::put);
    o.put("createdAt", q.createdAt().toString());
    o.put("expiresAt", q.expiresAt().toString());
    o.put("callKey", q.callKey());
    o.put("waitMode", q.waitMode());
    o.put("state", r.state().name());
    o.put("approver", r.approver());
    o.put("reason", r.reason());
    o.put("finalArguments", r.finalArguments());
    o.put("finalArgumentsHash", r.finalArgumentsHash());
    o.put("decidedAt", r.decidedAt() == null ? null : r.decidedAt().toString());
    return o.toString();
  }

  static ApprovalRecord read(String json) {
    JsonNode o;
    try {
      o = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unreadable approval record in Redis: " + e.getMessage(), e);
    }
    Map<String, String> ctx = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = o.get("context").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      ctx.put(e.getKey(), e.getValue().asText());
    }
    ApprovalRequest q = new ApprovalRequest(text(o, "id"), text(o, "tool"), text(o, "arguments"),
        text(o, "redactedArguments"), text(o, "argumentsHash"), text(o, "policy"),
        text(o, "policyVersion"), text(o, "rule"), text(o, "message"), CallContext.of(ctx),
        Instant.parse(text(o, "createdAt")), Instant.parse(text(o, "expiresAt")),
        text(o, "callKey"), o.path("waitMode").asBoolean());
    String decided = text(o, "decidedAt");
    return new ApprovalRecord(q, ApprovalRecord.State.valueOf(text(o, "state")),
        text(o, "approver"), text(o, "reason"), text(o, "finalArguments"),
        text(o, "finalArgumentsHash"), decided == null ? null : Instant.parse(decided));
  }

  private static String text(JsonNode o, String field) {
    JsonNode v = o.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
