package dev.saferun.springai;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.Decision;
import dev.saferun.audit.AuditEvent;
import io.micrometer.observation.ObservationRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.client.advisor.ToolCallingAdvisor;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;

/**
 * Many requests at once, each with several tool calls in one model message: one shared rate
 * limit (create_refund, 5 per minute, clock frozen) lets exactly five refunds through.
 */
class ConcurrencyTest {
  private static final int THREADS = 8;
  private static final int REQUESTS_PER_THREAD = 5;
  private static final int CALLS_PER_MESSAGE = 3;

  private final Fixtures f = new Fixtures();
  private final SupportTools tools = new SupportTools();
  private final SafeRunSpringAi saferun = SafeRunSpringAi.of(f.safeRun);

  /** Asks for three refunds in one message, then answers with the number of denials it saw. */
  private static ChatResponse respond(Prompt p) {
    List<Message> m = p.getInstructions();
    Message last = m.get(m.size() - 1);
    if (last instanceof UserMessage u) {
      List<AssistantMessage.ToolCall> calls = new ArrayList<>();
      for (int i = 0; i < CALLS_PER_MESSAGE; i++) {
        calls.add(ScriptedChatModel.call("c" + i, "create_refund",
            "{\"customer\":\"" + u.getText() + "-" + i + "\",\"amount\":10}"));
      }
      return ScriptedChatModel.toolCalls(calls.toArray(new AssistantMessage.ToolCall[0]));
    }
    long denied = ScriptedChatModel.toolResults(p).values().stream()
        .filter(t -> t.startsWith(Decision.DENIED_PREFIX)).count();
    return ScriptedChatModel.text(Long.toString(denied));
  }

  @Test
  void parallelRequestsAndParallelToolCallsNeverPassTheSharedLimit() throws Exception {
    ScriptedChatModel model = new ScriptedChatModel(ConcurrencyTest::respond);
    ChatClient chat = ChatClient.builder(model, ObservationRegistry.NOOP, null, null,
            ToolCallingAdvisor.builder().toolCallingManager(saferun.toolCallingManager()))
        .defaultAdvisors(saferun.advisor()).build();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Integer>> answers = new ArrayList<>();
    try {
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        answers.add(pool.submit(() -> {
          start.await();
          int denied = 0;
          for (int r = 0; r < REQUESTS_PER_THREAD; r++) {
            String content = chat.prompt("t" + thread + "r" + r).tools(tools)
                .toolContext(Map.of(SafeRunToolContext.USER, "u" + thread)).call().content();
            denied += Integer.parseInt(content);
          }
          return denied;
        }));
      }
      start.countDown();
      int denied = 0;
      for (Future<Integer> a : answers) {
        denied += a.get(60, TimeUnit.SECONDS);
      }

      int total = THREADS * REQUESTS_PER_THREAD * CALLS_PER_MESSAGE;
      assertThat(tools.ran).hasSize(5);
      assertThat(denied).isEqualTo(total - 5);
      assertThat(f.decisions()).hasSize(total);
      assertThat(f.decisions()).filteredOn(e -> e.type() == AuditEvent.Type.ALLOWED).hasSize(5);
      assertThat(f.decisions()).filteredOn(e -> e.type() == AuditEvent.Type.DENIED)
          .allSatisfy(e -> assertThat(e.rule()).isEqualTo("refund rate limit"));
    } finally {
      pool.shutdownNow();
    }
  }
}
