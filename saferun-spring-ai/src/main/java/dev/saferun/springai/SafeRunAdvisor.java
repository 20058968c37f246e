package dev.saferun.springai;

import dev.saferun.CallContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.springframework.ai.chat.client.ChatClientRequest;
import org.springframework.ai.chat.client.ChatClientResponse;
import org.springframework.ai.chat.client.advisor.ToolCallingAdvisor;
import org.springframework.ai.chat.client.advisor.api.CallAdvisor;
import org.springframework.ai.chat.client.advisor.api.CallAdvisorChain;
import org.springframework.ai.chat.client.advisor.api.StreamAdvisor;
import org.springframework.ai.chat.client.advisor.api.StreamAdvisorChain;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.tool.ToolCallback;
import reactor.core.publisher.Flux;

/**
 * Prepares each {@code ChatClient} request for SafeRun, outside Spring AI's tool loop:
 * <ul>
 *   <li>copies identity into the request's tool context: {@code saferun.*} advisor parameters,
 *       the conversation id ({@code ChatMemory.CONVERSATION_ID}, as {@code saferun.run}) and
 *       what the {@link SafeRunContextResolver} returns; entries the request's tool context
 *       already has win;</li>
 *   <li>removes the tools the policy hides in that context, so the model never sees them;</li>
 *   <li>wraps the remaining tools in {@link SafeRunToolCallback}, which covers {@code @Tool}
 *       objects and {@code ToolCallbackProvider}s (MCP included) too, since those only become
 *       callbacks when the request is built.</li>
 * </ul>
 *
 * <p>Its order, {@link #DEFAULT_ORDER}, puts it after chat-memory advisors and before (outside)
 * {@link ToolCallingAdvisor}. Requests without tool-calling options pass through unchanged.
 *
 * <p>Immutable and thread-safe.
 */
public final class SafeRunAdvisor implements CallAdvisor, StreamAdvisor {
  /** Between the chat-memory advisors and {@link ToolCallingAdvisor#DEFAULT_ORDER}. */
  public static final int DEFAULT_ORDER = ToolCallingAdvisor.DEFAULT_ORDER - 50;

  private final SafeRunSpringAi saferun;
  private final SafeRunContextResolver resolver;
  private final int order;

  /**
   * An advisor for {@code saferun}.
   *
   * @param resolver extra context attributes per request
   * @param order the advisor order; keep it below {@link ToolCallingAdvisor#DEFAULT_ORDER}
   */
  public SafeRunAdvisor(SafeRunSpringAi saferun, SafeRunContextResolver resolver, int order) {
    this.saferun = Objects.requireNonNull(saferun, "saferun");
    this.resolver = Objects.requireNonNull(resolver, "resolver");
    this.order = order;
  }

  @Override
  public String getName() {
    return "SafeRunAdvisor";
  }

  @Override
  public int getOrder() {
    return order;
  }

  @Override
  public ChatClientResponse adviseCall(ChatClientRequest request, CallAdvisorChain chain) {
    return chain.nextCall(prepare(request));
  }

  @Override
  public Flux<ChatClientResponse> adviseStream(ChatClientRequest request,
      StreamAdvisorChain chain) {
    return chain.nextStream(prepare(request));
  }

  /** The request with identity in its tool context and only the visible tools, wrapped. */
  ChatClientRequest prepare(ChatClientRequest request) {
    ChatOptions options = request.prompt().getOptions();
    if (!(options instanceof ToolCallingChatOptions o)) {
      return request;
    }
    Map<String, Object> toolContext = new LinkedHashMap<>();
    if (o.getToolContext() != null) {
      toolContext.putAll(o.getToolContext());
    }
    int before = toolContext.size();
    request.context().forEach((k, v) -> {
      if (k.startsWith(SafeRunToolContext.PREFIX) && v != null && !v.toString().isBlank()) {
        toolContext.putIfAbsent(k, v.toString());
      }
    });
    Object conversation = request.context().get(SafeRunToolContext.CONVERSATION_ID);
    if (conversation != null && !conversation.toString().isBlank()
        && !toolContext.containsKey(SafeRunToolContext.CONVERSATION_ID)) {
      toolContext.putIfAbsent(SafeRunToolContext.RUN, conversation.toString());
    }
    CallContext resolved = resolver.resolve(request);
    if (resolved != null) {
      resolved.asMap().forEach((k, v) -> toolContext.putIfAbsent(SafeRunToolContext.PREFIX + k, v));
    }
    List<ToolCallback> tools = o.getToolCallbacks();
    if ((tools == null || tools.isEmpty()) && toolContext.size() == before) {
      return request;
    }
    CallContext context = saferun.callContext(toolContext);
    ToolCallingChatOptions.Builder<?> b = o.mutate();
    b.toolCallbacks(saferun.visible(tools, context));
    if (toolContext.size() != before) {
      b.toolContext(toolContext);
    }
    return request.mutate()
        .prompt(request.prompt().mutate().chatOptions(b.build()).build())
        .build();
  }

  @Override
  public String toString() {
    return "SafeRunAdvisor[order=" + order + "]";
  }
}
