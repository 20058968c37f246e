package dev.saferun.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A {@link ChatModel} that answers from a script and records every request it receives, so a
 * test can see exactly what LangChain4j sent the model: the advertised tools and the tool results.
 */
final class ScriptedChatModel implements ChatModel {
  private final Function<ChatRequest, AiMessage> script;
  private final List<ChatRequest> requests = new ArrayList<>();

  ScriptedChatModel(Function<ChatRequest, AiMessage> script) {
    this.script = script;
  }

  /** Answers with these messages in order, then repeats the last one. */
  static ScriptedChatModel replying(AiMessage... messages) {
    return new ScriptedChatModel(new Function<>() {
      private int next;

      @Override
      public synchronized AiMessage apply(ChatRequest r) {
        return messages[Math.min(next++, messages.length - 1)];
      }
    });
  }

  @Override
  public ChatResponse doChat(ChatRequest request) {
    synchronized (requests) {
      requests.add(request);
    }
    return ChatResponse.builder().aiMessage(script.apply(request)).build();
  }

  List<ChatRequest> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /** The tool names advertised in the n-th request. */
  List<String> advertisedTools(int n) {
    return requests().get(n).toolSpecifications().stream().map(t -> t.name()).toList();
  }

  /** Every tool result the model was sent in the last request, in order. */
  List<ToolExecutionResultMessage> toolResults() {
    List<ChatRequest> all = requests();
    List<ToolExecutionResultMessage> out = new ArrayList<>();
    for (ChatMessage m : all.get(all.size() - 1).messages()) {
      if (m instanceof ToolExecutionResultMessage) {
        out.add((ToolExecutionResultMessage) m);
      }
    }
    return out;
  }

  static AiMessage call(String id, String tool, String arguments) {
    return AiMessage.from(request(id, tool, arguments));
  }

  static ToolExecutionRequest request(String id, String tool, String arguments) {
    return ToolExecutionRequest.builder().id(id).name(tool).arguments(arguments).build();
  }

  static AiMessage answer(String text) {
    return AiMessage.from(text);
  }
}
