package dev.saferun.springai;

import dev.saferun.Decision;
import dev.saferun.PolicyDeniedException;
import dev.saferun.approval.ApprovalRequest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;

/**
 * A tool call is held for a human and the application asked to be told
 * ({@link OnHold#EXCEPTION}): the request stops, and this exception comes out of
 * {@code ChatClient...call()} (or as the error of a stream) carrying the
 * {@linkplain #request() approval request}.
 *
 * <p>When it was thrown through {@link SafeRunToolCallingManager} (always the case with the
 * Spring Boot auto-configuration) it is {@linkplain #resumable() resumable}: it also carries the
 * turn's history, the model's tool-call message and the results of the calls of that message
 * that already ran, so the application can persist the conversation and, once a human decided,
 * {@linkplain SafeRunToolCallingManager#resume resume} it without running any tool twice.
 *
 * <p>A control-flow exception without a stack trace. Immutable and thread-safe; the Spring AI
 * messages it holds are the ones of the stopped request (not copied).
 */
public final class ApprovalPendingException extends PolicyDeniedException {
  private static final long serialVersionUID = 1L;

  private final transient List<Message> history;
  private final transient AssistantMessage assistantMessage;
  private final transient List<ToolResponseMessage.ToolResponse> completed;
  private final transient Map<String, Object> toolContext;

  /** A hold seen by a single tool callback, with no conversation attached. */
  public ApprovalPendingException(Decision decision) {
    this(decision, null, null, List.of(), Map.of());
  }

  ApprovalPendingException(Decision decision, List<Message> history,
      AssistantMessage assistantMessage, List<ToolResponseMessage.ToolResponse> completed,
      Map<String, Object> toolContext) {
    super(requireHold(decision));
    this.history = history == null ? null : List.copyOf(history);
    this.assistantMessage = assistantMessage;
    this.completed = List.copyOf(completed);
    this.toolContext = toolContext == null ? Map.of()
        : Collections.unmodifiableMap(new LinkedHashMap<>(toolContext));
  }

  private static Decision requireHold(Decision d) {
    Objects.requireNonNull(d, "decision");
    if (!d.isHeld() || d.approval() == null) {
      throw new IllegalArgumentException("ApprovalPendingException needs a hold with an approval"
          + " request, got " + d.outcome());
    }
    return d;
  }

  /** The approval request; its {@code id()} is what a human approves or denies. */
  public ApprovalRequest request() {
    return decision().approval();
  }

  /** Whether the conversation is attached, so {@link SafeRunToolCallingManager#resume} can continue it. */
  public boolean resumable() {
    return assistantMessage != null;
  }

  /** The turn's messages before the model's tool-call message, or {@code null} when not resumable. */
  public List<Message> history() {
    return history;
  }

  /** The model's message with the tool calls, or {@code null} when not resumable. */
  public AssistantMessage assistantMessage() {
    return assistantMessage;
  }

  /** The id the model gave the held tool call, or {@code null} when not resumable. */
  public String toolCallId() {
    if (assistantMessage == null) {
      return null;
    }
    return assistantMessage.getToolCalls().get(completed.size()).id();
  }

  /**
   * Results of the calls of {@link #assistantMessage()} that came before the held one, in order;
   * they already ran (or were denied) and are not run again on resume.
   */
  public List<ToolResponseMessage.ToolResponse> completedResponses() {
    return completed;
  }

  /** The request's tool context (identity included), to pass again when resuming. */
  public Map<String, Object> toolContext() {
    return toolContext;
  }
}
