package dev.saferun.springai;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.Execution;
import dev.saferun.ToolCall;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage.ToolResponse;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.model.ToolContext;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionResult;
import org.springframework.ai.support.ToolCallbacks;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ToolCallingManager} decorator that puts SafeRun around Spring AI's tool execution:
 * <ul>
 *   <li>{@link #resolveToolDefinitions}: the definitions the model is sent lack the tools the
 *       policy hides in the request's context (the {@code ChatModel} asks for them);</li>
 *   <li>{@link #executeToolCalls}: every callback of the request is {@linkplain
 *       SafeRunSpringAi#wrap wrapped} before the delegate runs it; a call to a tool that is not
 *       in the request (hidden, or invented by the model) is answered with
 *       {@code [SAFERUN POLICY DENIED] …} instead of failing the whole request with Spring AI's
 *       {@code No ToolCallback found}. Calls to hidden tools are evaluated, so they are audited;
 *       calls to tools nobody registered are only logged;</li>
 *   <li>with {@link OnHold#EXCEPTION}, the calls of one model message run one at a time so that a
 *       hold stops the batch with a {@linkplain ApprovalPendingException#resumable() resumable}
 *       exception that records which calls already ran; {@link #resume} continues it.</li>
 * </ul>
 *
 * <p>Tools are only ever taken from the request: Spring AI's resolver fallback
 * ({@code spring.ai.tools.resolution.fallback.enabled}) does not apply behind this manager.
 *
 * <p>Thread-safe if the delegate is (Spring AI's is).
 */
public final class SafeRunToolCallingManager implements ToolCallingManager {
  private static final Logger LOG = LoggerFactory.getLogger(SafeRunToolCallingManager.class);

  private final ToolCallingManager delegate;
  private final SafeRunSpringAi saferun;

  SafeRunToolCallingManager(ToolCallingManager delegate, SafeRunSpringAi saferun) {
    this.delegate = delegate;
    this.saferun = saferun;
  }

  /** The decorated manager. */
  public ToolCallingManager delegate() {
    return delegate;
  }

  @Override
  public List<ToolDefinition> resolveToolDefinitions(ToolCallingChatOptions chatOptions) {
    List<ToolDefinition> all = delegate.resolveToolDefinitions(chatOptions);
    if (all.isEmpty()) {
      return all;
    }
    List<String> names = new ArrayList<>(all.size());
    for (ToolDefinition d : all) {
      names.add(d.name());
    }
    CallContext context = saferun.callContext(chatOptions.getToolContext());
    Set<String> visible = new HashSet<>(saferun.safeRun().visibleTools(names, context));
    if (visible.size() == all.size()) {
      return all;
    }
    List<ToolDefinition> out = new ArrayList<>(visible.size());
    for (ToolDefinition d : all) {
      if (visible.contains(d.name())) {
        out.add(d);
      }
    }
    return out;
  }

  @Override
  public ToolExecutionResult executeToolCalls(Prompt prompt, ChatResponse chatResponse) {
    AssistantMessage message = toolCallMessage(chatResponse);
    if (message == null) {
      return delegate.executeToolCalls(prompt, chatResponse); // Spring AI's own error
    }
    Batch batch = new Batch(prompt);
    if (saferun.onHold() == OnHold.EXCEPTION) {
      return batch.oneByOne(message, new ArrayList<>(), 0, null);
    }
    List<AssistantMessage.ToolCall> calls = message.getToolCalls();
    List<AssistantMessage.ToolCall> known = new ArrayList<>(calls.size());
    for (AssistantMessage.ToolCall c : calls) {
      if (batch.knows(c.name())) {
        known.add(c);
      }
    }
    if (known.size() == calls.size()) {
      return delegate.executeToolCalls(batch.prompt, chatResponse);
    }
    List<ToolResponse> knownResponses = List.of();
    boolean returnDirect = false;
    if (!known.isEmpty()) {
      ToolExecutionResult r = delegate.executeToolCalls(batch.prompt, new ChatResponse(
          List.of(new Generation(message.mutate().toolCalls(known).build()))));
      knownResponses = lastResponses(r);
      returnDirect = r.returnDirect();
    }
    List<ToolResponse> responses = new ArrayList<>(calls.size());
    int k = 0;
    for (AssistantMessage.ToolCall c : calls) {
      if (batch.knows(c.name())) {
        responses.add(k < knownResponses.size() ? knownResponses.get(k)
            : new ToolResponse(c.id(), c.name(), ""));
        k++;
      } else {
        responses.add(new ToolResponse(c.id(), c.name(), batch.unavailable(c)));
      }
    }
    return result(prompt.getInstructions(), message, responses, returnDirect);
  }

  /**
   * Continues a conversation stopped by an {@link ApprovalPendingException}, once a human has
   * decided: the held call runs with the approved (possibly edited) arguments, or is answered
   * with the denial; the calls after it in the same model message run as usual; the calls before
   * it are not run again. Returns the history to continue the conversation with, e.g.
   * {@code chatClient.prompt().messages(result.conversationHistory()).tools(..).call()}.
   *
   * @param pending the exception, {@linkplain ApprovalPendingException#resumable() resumable}
   * @param options the request's tools (and tool context; the exception's tool context is used
   *     for entries the options lack)
   * @throws ApprovalPendingException again when the request is still pending, or when a later
   *     call of the batch is held
   * @throws dev.saferun.approval.ApprovalException when the approval was already used (resumed
   *     twice) or is unknown
   */
  public ToolExecutionResult resume(ApprovalPendingException pending,
      ToolCallingChatOptions options) {
    Objects.requireNonNull(pending, "pending");
    Objects.requireNonNull(options, "options");
    if (!pending.resumable()) {
      throw new IllegalArgumentException("ApprovalPendingException for " + pending.request().id()
          + " carries no conversation; it was not thrown through SafeRunToolCallingManager");
    }
    Map<String, Object> toolContext = new LinkedHashMap<>(pending.toolContext());
    if (options.getToolContext() != null) {
      toolContext.putAll(options.getToolContext());
    }
    ToolCallingChatOptions withContext = options.mutate().toolContext(toolContext).build();
    Batch batch = new Batch(new Prompt(pending.history(), withContext));
    List<ToolResponse> done = new ArrayList<>(pending.completedResponses());
    AssistantMessage message = pending.assistantMessage();
    AssistantMessage.ToolCall held = message.getToolCalls().get(done.size());
    ToolCallback tool = batch.tool(held.name());
    String text;
    if (tool == null) {
      text = batch.unavailable(held);
    } else {
      Execution e = ((SafeRunToolCallback) tool).executeApproved(pending.request().id(),
          new ToolContext(toolContext));
      if (e.decision().isHeld() && e.decision().approval() != null) {
        throw new ApprovalPendingException(e.decision(), pending.history(), message, done,
            toolContext);
      }
      text = e.text();
    }
    done.add(new ToolResponse(held.id(), held.name(), text));
    return batch.oneByOne(message, done, done.size(),
        tool == null ? null : tool.getToolMetadata().returnDirect());
  }

  /**
   * {@link #resume(ApprovalPendingException, ToolCallingChatOptions)} with the request's tools
   * given as {@code ChatClient...tools(..)} takes them: {@code ToolCallback}s,
   * {@code ToolCallbackProvider}s, arrays or collections of them, and {@code @Tool} objects.
   */
  public ToolExecutionResult resume(ApprovalPendingException pending, Object... tools) {
    List<ToolCallback> callbacks = new ArrayList<>();
    for (Object t : tools) {
      collect(t, callbacks);
    }
    return resume(pending, ToolCallingChatOptions.builder().toolCallbacks(callbacks).build());
  }

  private static void collect(Object tool, List<ToolCallback> out) {
    if (tool instanceof ToolCallback t) {
      out.add(t);
    } else if (tool instanceof ToolCallbackProvider p) {
      out.addAll(List.of(p.getToolCallbacks()));
    } else if (tool instanceof Object[] array) {
      for (Object o : array) {
        collect(o, out);
      }
    } else if (tool instanceof Iterable<?> it) {
      for (Object o : it) {
        collect(o, out);
      }
    } else if (tool != null) {
      out.addAll(List.of(ToolCallbacks.from(tool)));
    }
  }

  private static AssistantMessage toolCallMessage(ChatResponse response) {
    if (response == null) {
      return null;
    }
    for (Generation g : response.getResults()) {
      if (g.getOutput() != null && g.getOutput().hasToolCalls()) {
        return g.getOutput();
      }
    }
    return null;
  }

  private static List<ToolResponse> lastResponses(ToolExecutionResult r) {
    List<Message> h = r.conversationHistory();
    if (!h.isEmpty() && h.get(h.size() - 1) instanceof ToolResponseMessage m) {
      return m.getResponses();
    }
    return List.of();
  }

  private static ToolExecutionResult result(List<Message> instructions, AssistantMessage message,
      List<ToolResponse> responses, boolean returnDirect) {
    List<Message> history = new ArrayList<>(instructions);
    history.add(message);
    history.add(ToolResponseMessage.builder().responses(responses).build());
    return ToolExecutionResult.builder().conversationHistory(history).returnDirect(returnDirect)
        .build();
  }

  /** One model message's tool calls: the request's tools, wrapped, and its context. */
  private final class Batch {
    final Prompt prompt;
    final Map<String, ToolCallback> tools = new LinkedHashMap<>();
    final Map<String, Object> toolContext;
    final CallContext context;

    Batch(Prompt original) {
      ToolCallingChatOptions options = original.getOptions() instanceof ToolCallingChatOptions o
          ? o : null;
      List<ToolCallback> callbacks = options == null || options.getToolCallbacks() == null
          ? List.of() : options.getToolCallbacks();
      boolean changed = false;
      List<ToolCallback> wrapped = new ArrayList<>(callbacks.size());
      for (ToolCallback t : callbacks) {
        ToolCallback w = saferun.wrap(t);
        changed |= w != t;
        wrapped.add(w);
        tools.putIfAbsent(w.getToolDefinition().name(), w);
      }
      this.prompt = changed
          ? new Prompt(original.getInstructions(), options.mutate().toolCallbacks(wrapped).build())
          : original;
      this.toolContext = options == null || options.getToolContext() == null ? Map.of()
          : options.getToolContext();
      this.context = saferun.callContext(toolContext);
    }

    boolean knows(String name) {
      return tools.containsKey(name);
    }

    ToolCallback tool(String name) {
      return tools.get(name);
    }

    /** The answer to a call of a tool the request does not offer. */
    String unavailable(AssistantMessage.ToolCall c) {
      List<String> visible = saferun.safeRun().visibleTools(List.of(c.name()), context);
      if (visible.isEmpty()) {
        // Hidden by policy (or no policy governs this context): decide it, so it is audited.
        Decision d = saferun.safeRun().evaluate(new ToolCall(c.name(), c.arguments(), context));
        if (!d.isAllowed()) {
          if (d.isHeld() && d.approval() != null) {
            saferun.safeRun().approvals().deny(d.approval().id(), "saferun",
                "tool is not available in this request");
          }
          return d.isDenied() ? d.toModelText()
              : Decision.DENIED_PREFIX + "Tool \"" + c.name() + "\" is not available";
        }
        saferun.safeRun().refund(d);
      }
      LOG.warn("The model called tool \"{}\", which this request does not offer; answered with a"
          + " denial", c.name());
      return Decision.DENIED_PREFIX + "Tool \"" + c.name() + "\" is not available";
    }

    /**
     * Runs calls {@code from..} of {@code message} one at a time through the delegate, after
     * the responses in {@code done}, so a hold stops the batch knowing which calls ran.
     */
    ToolExecutionResult oneByOne(AssistantMessage message, List<ToolResponse> done, int from,
        Boolean returnDirectSoFar) {
      List<AssistantMessage.ToolCall> calls = message.getToolCalls();
      Boolean returnDirect = returnDirectSoFar;
      for (int i = from; i < calls.size(); i++) {
        AssistantMessage.ToolCall c = calls.get(i);
        if (!knows(c.name())) {
          done.add(new ToolResponse(c.id(), c.name(), unavailable(c)));
          continue;
        }
        // The calls already answered go into the prompt, so Spring AI's per-turn limits count
        // them as they would in one batch.
        List<Message> instructions = new ArrayList<>(prompt.getInstructions());
        if (i > 0) {
          instructions.add(message.mutate().toolCalls(calls.subList(0, i)).build());
          instructions.add(ToolResponseMessage.builder().responses(List.copyOf(done)).build());
        }
        ToolExecutionResult r;
        try {
          r = delegate.executeToolCalls(new Prompt(instructions, prompt.getOptions()),
              new ChatResponse(List.of(new Generation(
                  message.mutate().toolCalls(List.of(c)).build()))));
        } catch (ApprovalPendingException e) {
          throw new ApprovalPendingException(e.decision(), prompt.getInstructions(), message,
              done, toolContext);
        }
        List<ToolResponse> one = lastResponses(r);
        done.add(one.isEmpty() ? new ToolResponse(c.id(), c.name(), "") : one.get(0));
        returnDirect = returnDirect == null ? r.returnDirect() : returnDirect && r.returnDirect();
      }
      return result(prompt.getInstructions(), message, done,
          returnDirect != null && returnDirect);
    }
  }
}
