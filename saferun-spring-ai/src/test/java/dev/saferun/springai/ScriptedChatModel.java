package dev.saferun.springai;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.tool.ToolCallback;
import reactor.core.publisher.Flux;

/**
 * A chat model that answers from a script and records every prompt it received. It returns
 * {@link ToolCallingChatOptions} from {@link #getOptions()}: a model that does not makes
 * ChatClient drop every tool, silently.
 */
public final class ScriptedChatModel implements ChatModel {
  public final List<Prompt> prompts = new CopyOnWriteArrayList<>();
  private final Deque<Function<Prompt, ChatResponse>> script = new ArrayDeque<>();
  private final Function<Prompt, ChatResponse> fallback;

  /** A model that answers with the script's steps in order. */
  public ScriptedChatModel() {
    this(p -> {
      throw new IllegalStateException("the script is over");
    });
  }

  /** A model that answers with {@code responder} once the script is over (thread-safe use). */
  public ScriptedChatModel(Function<Prompt, ChatResponse> responder) {
    this.fallback = responder;
  }

  public ScriptedChatModel then(Function<Prompt, ChatResponse> step) {
    synchronized (script) {
      script.add(step);
    }
    return this;
  }

  public ScriptedChatModel thenToolCalls(AssistantMessage.ToolCall... calls) {
    return then(p -> toolCalls(calls));
  }

  public ScriptedChatModel thenText(String text) {
    return then(p -> text(text));
  }

  @Override
  public ChatResponse call(Prompt prompt) {
    prompts.add(prompt);
    Function<Prompt, ChatResponse> step;
    synchronized (script) {
      step = script.pollFirst();
    }
    return (step == null ? fallback : step).apply(prompt);
  }

  @Override
  public Flux<ChatResponse> stream(Prompt prompt) {
    return Flux.defer(() -> Flux.just(call(prompt)));
  }

  @Override
  public ChatOptions getOptions() {
    return ToolCallingChatOptions.builder().build();
  }

  public static AssistantMessage.ToolCall call(String id, String name, String json) {
    return new AssistantMessage.ToolCall(id, "function", name, json);
  }

  public static ChatResponse toolCalls(AssistantMessage.ToolCall... calls) {
    return new ChatResponse(List.of(new Generation(AssistantMessage.builder().content("")
        .toolCalls(List.of(calls)).build())));
  }

  public static ChatResponse text(String text) {
    return new ChatResponse(List.of(new Generation(new AssistantMessage(text))));
  }

  /** Names of the tools the model was offered in prompt {@code i}. */
  public List<String> toolsOffered(int i) {
    ChatOptions o = prompts.get(i).getOptions();
    List<String> names = new ArrayList<>();
    if (o instanceof ToolCallingChatOptions t && t.getToolCallbacks() != null) {
      for (ToolCallback cb : t.getToolCallbacks()) {
        names.add(cb.getToolDefinition().name());
      }
    }
    return names;
  }

  /** Tool context of prompt {@code i}. */
  Map<String, Object> toolContext(int i) {
    ChatOptions o = prompts.get(i).getOptions();
    return o instanceof ToolCallingChatOptions t && t.getToolContext() != null
        ? t.getToolContext() : Map.of();
  }

  /** The tool results (id → text) the model received in prompt {@code i}'s last message. */
  static Map<String, String> toolResults(Prompt p) {
    List<Message> m = p.getInstructions();
    Map<String, String> out = new java.util.LinkedHashMap<>();
    if (!m.isEmpty() && m.get(m.size() - 1) instanceof ToolResponseMessage r) {
      for (ToolResponseMessage.ToolResponse t : r.getResponses()) {
        out.put(t.id(), t.responseData());
      }
    }
    return out;
  }

  public Map<String, String> toolResults(int i) {
    return toolResults(prompts.get(i));
  }
}
