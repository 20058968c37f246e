package dev.saferun.approval;

import dev.saferun.CallContext;
import java.time.Instant;
import java.util.Objects;

/**
 * A call held for a human: created when a {@code require_approval} rule holds a call and handed
 * to the host's {@link OnPause} callback.
 *
 * <p>Immutable and thread-safe.
 *
 * @param id unguessable id, {@code apr_} followed by 128 random bits in hex
 * @param tool the tool
 * @param arguments the call's arguments, canonical JSON (raw values; do not show to untrusted eyes)
 * @param redactedArguments the arguments with the policy's {@code redact:} paths masked, for
 *     notifications and logs
 * @param argumentsHash sha-256 of the canonical arguments; an approval is bound to it
 * @param policy the holding policy's name
 * @param policyVersion the holding policy's version
 * @param rule the holding rule
 * @param message the hold's message
 * @param context the call's context
 * @param createdAt when the call was held
 * @param expiresAt when the hold lapses and counts as a denial
 * @param callKey identifies "the same call" (tool, canonical arguments, context) for defer mode
 * @param waitMode {@code true} when the holding policy's {@code approvals.mode} is {@code wait}
 */
public record ApprovalRequest(
    String id,
    String tool,
    String arguments,
    String redactedArguments,
    String argumentsHash,
    String policy,
    String policyVersion,
    String rule,
    String message,
    CallContext context,
    Instant createdAt,
    Instant expiresAt,
    String callKey,
    boolean waitMode) {

  public ApprovalRequest {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  /** Excludes the raw arguments, so a logged request never leaks redacted values. */
  @Override
  public String toString() {
    return "ApprovalRequest[" + id + " tool=" + tool + " rule=\"" + rule + "\" args="
        + redactedArguments + " expiresAt=" + expiresAt + "]";
  }
}
