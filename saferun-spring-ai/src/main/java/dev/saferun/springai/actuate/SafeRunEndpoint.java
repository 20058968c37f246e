package dev.saferun.springai.actuate;

import dev.saferun.SafeRun;
import dev.saferun.approval.ApprovalException;
import dev.saferun.approval.ApprovalRecord;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.policy.Policy;
import dev.saferun.springai.autoconfigure.SafeRunPolicies;
import java.security.Principal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint;

/**
 * The {@code saferun} actuator endpoint:
 * <ul>
 *   <li>{@code GET /actuator/saferun}: the mode, the policies in force (name, version = sha-256
 *       of the file, source), the policy set version, the last reload and the pending
 *       approvals;</li>
 *   <li>{@code GET /actuator/saferun/{id}}: one approval request;</li>
 *   <li>{@code POST /actuator/saferun/{id}} with a JSON body
 *       {@code {"decision": "approve" | "deny", "arguments": "{...}", "reason": "..."}}: approves
 *       (optionally with edited arguments, given as JSON text in a string: actuator bodies are
 *       flat string maps) or denies a held call. The approver recorded in the
 *       audit log is the authenticated principal, or, without Spring Security, the body's
 *       {@code approver} (default {@code actuator}).</li>
 * </ul>
 * Write access is off by default ({@link Access#READ_ONLY}): enable it with
 * {@code management.endpoint.saferun.access=unrestricted}, and protect it as any actuator write
 * operation (Spring Security, a management port on a private interface). Errors map to HTTP
 * 404 (unknown id), 409 (already decided or expired) and 400 (bad decision or arguments).
 *
 * <p>Thread-safe.
 */
@WebEndpoint(id = "saferun", defaultAccess = Access.READ_ONLY)
public class SafeRunEndpoint {
  private static final int CONFLICT = 409;

  private final SafeRun safeRun;
  private final SafeRunPolicies policies;
  private final String mode;

  /**
   * An endpoint over {@code safeRun}.
   *
   * @param policies the policy files, or {@code null} when SafeRun was configured in code
   * @param mode {@code enforce} or {@code shadow}, as reported
   */
  public SafeRunEndpoint(SafeRun safeRun, @Nullable SafeRunPolicies policies, String mode) {
    this.safeRun = Objects.requireNonNull(safeRun, "safeRun");
    this.policies = policies;
    this.mode = mode;
  }

  /** Mode, policies in force, last reload and pending approvals. */
  @ReadOperation
  public Map<String, Object> saferun() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("mode", mode);
    out.put("policySetVersion", safeRun.policies().version());
    List<Map<String, Object>> list = new ArrayList<>();
    for (Policy p : safeRun.policies().policies()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", p.name());
      m.put("version", p.version());
      m.put("source", p.source());
      m.put("mode", p.mode().name().toLowerCase(Locale.ROOT));
      list.add(m);
    }
    out.put("policies", list);
    if (policies != null) {
      Map<String, Object> reload = new LinkedHashMap<>();
      reload.put("locations", policies.locations());
      SafeRunPolicies.ReloadResult last = policies.lastReload();
      if (last != null) {
        reload.put("lastChanged", last.changed());
        reload.put("lastError", last.error());
      }
      out.put("reload", reload);
    }
    List<Map<String, Object>> pending = new ArrayList<>();
    for (ApprovalRecord r : safeRun.approvals().pending()) {
      pending.add(view(r));
    }
    out.put("pendingApprovals", pending);
    return out;
  }

  /** One approval request, by id. */
  @ReadOperation
  public WebEndpointResponse<Map<String, Object>> approval(@Selector String id) {
    try {
      return new WebEndpointResponse<>(view(safeRun.approvals().get(id)));
    } catch (ApprovalException e) {
      return error(e);
    }
  }

  /**
   * Approves or denies a held call.
   *
   * @param decision {@code approve} or {@code deny}
   * @param arguments edited arguments for an approval: a JSON object as text
   * @param reason why, for a denial
   * @param approver who decides, used only when no principal is authenticated
   */
  @WriteOperation
  public WebEndpointResponse<Map<String, Object>> decide(@Selector String id, String decision,
      @Nullable String arguments, @Nullable String reason, @Nullable String approver,
      SecurityContext security) {
    String who = approver(security, approver);
    try {
      ApprovalRecord r;
      switch (decision.trim().toLowerCase(Locale.ROOT)) {
        case "approve":
        case "approved":
          r = arguments == null ? safeRun.approvals().approve(id, who)
              : safeRun.approvals().approve(id, who, arguments);
          break;
        case "deny":
        case "denied":
          r = safeRun.approvals().deny(id, who, reason == null ? "" : reason);
          break;
        default:
          return new WebEndpointResponse<>(Map.of("error",
              "decision must be 'approve' or 'deny', got '" + decision + "'"),
              WebEndpointResponse.STATUS_BAD_REQUEST);
      }
      return new WebEndpointResponse<>(view(r));
    } catch (ApprovalException e) {
      return error(e);
    } catch (IllegalArgumentException e) {
      return new WebEndpointResponse<>(Map.of("error", String.valueOf(e.getMessage())),
          WebEndpointResponse.STATUS_BAD_REQUEST);
    }
  }

  private static String approver(SecurityContext security, String fromBody) {
    Principal p = security == null ? null : security.getPrincipal();
    if (p != null && p.getName() != null && !p.getName().isBlank()) {
      return p.getName();
    }
    return fromBody == null || fromBody.isBlank() ? "actuator" : fromBody;
  }

  private static WebEndpointResponse<Map<String, Object>> error(ApprovalException e) {
    int status = switch (e.reason()) {
      case NOT_FOUND -> WebEndpointResponse.STATUS_NOT_FOUND;
      case INVALID_ARGUMENTS -> WebEndpointResponse.STATUS_BAD_REQUEST;
      default -> CONFLICT;
    };
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", e.getMessage());
    body.put("reason", e.reason().name().toLowerCase(Locale.ROOT));
    return new WebEndpointResponse<>(body, status);
  }

  /** The record as JSON-friendly values, with redacted arguments only. */
  static Map<String, Object> view(ApprovalRecord r) {
    ApprovalRequest q = r.request();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", q.id());
    m.put("state", r.state().name().toLowerCase(Locale.ROOT));
    m.put("tool", q.tool());
    m.put("arguments", q.redactedArguments());
    m.put("policy", q.policy());
    m.put("rule", q.rule());
    m.put("message", q.message());
    m.put("context", q.context().asMap());
    m.put("createdAt", q.createdAt().toString());
    m.put("expiresAt", q.expiresAt().toString());
    if (r.approver() != null) {
      m.put("approver", r.approver());
    }
    if (r.reason() != null && !r.reason().isEmpty()) {
      m.put("reason", r.reason());
    }
    if (r.decidedAt() != null) {
      m.put("decidedAt", r.decidedAt().toString());
    }
    m.put("edited", r.edited());
    return m;
  }
}
