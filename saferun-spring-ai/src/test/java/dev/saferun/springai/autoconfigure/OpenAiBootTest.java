package dev.saferun.springai.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.springai.LoopbackOpenAi;
import dev.saferun.springai.SafeRunToolContext;
import dev.saferun.springai.SafeRunToolCallingManager;
import dev.saferun.springai.SupportTools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.model.chat.client.autoconfigure.ChatClientAutoConfiguration;
import org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A Spring Boot application with Spring AI's OpenAI auto-configuration and SafeRun, talking to a
 * loopback OpenAI endpoint: what goes over HTTP is what a real model would receive.
 */
class OpenAiBootTest {
  private final LoopbackOpenAi openAi = new LoopbackOpenAi();

  @AfterEach
  void stop() {
    openAi.close();
  }

  @Test
  void theAutoConfiguredClientNeverSendsHiddenToolsAndSendsDenialsAsToolMessages() {
    openAi.thenToolCalls(
            new String[] {"call_1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":900}"},
            new String[] {"call_2", "delete_customer", "{\"id\":\"cus_1\"}"})
        .thenText("I could not do either.");
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OpenAiChatAutoConfiguration.class,
            ToolCallingAutoConfiguration.class, ChatClientAutoConfiguration.class,
            SafeRunAutoConfiguration.class))
        .withPropertyValues("spring.ai.openai.base-url=" + openAi.baseUrl(),
            "spring.ai.openai.api-key=test-key", "spring.ai.openai.chat.model=gpt-4o-mini",
            "spring.ai.openai.max-retries=0",
            "saferun.policies=classpath:policies/support.yaml", "saferun.reload.enabled=false")
        .withBean(SupportTools.class, SupportTools::new)
        .run(ctx -> {
          assertThat(ctx).hasNotFailed().hasSingleBean(OpenAiChatModel.class);
          assertThat(ctx.getBean(ToolCallingManager.class))
              .isInstanceOf(SafeRunToolCallingManager.class);
          SupportTools tools = ctx.getBean(SupportTools.class);

          String answer = ctx.getBean(ChatClient.Builder.class).build()
              .prompt("Refund cus_1 $900, then delete them").tools(tools)
              .toolContext(SafeRunToolContext.of("user", "u1")).call().content();

          assertThat(answer).isEqualTo("I could not do either.");
          assertThat(openAi.toolNames(0))
              .containsExactlyInAnyOrder("get_customer", "create_refund", "send_email");
          assertThat(openAi.toolMessages(1)).extracting(m -> m.path("content").asText())
              .containsExactly("[SAFERUN POLICY DENIED] A single refund cannot exceed $500.00",
                  "[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy");
          assertThat(tools.ran).isEmpty();
        });
  }

  /** The documented limit of a ChatClient built by hand in a Boot application. */
  @Test
  void aChatClientBuiltByHandStillOmitsHiddenToolsButIsNotGuarded() {
    openAi.thenToolCalls(
            new String[] {"call_1", "create_refund", "{\"customer\":\"cus_1\",\"amount\":900}"})
        .thenText("done");
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OpenAiChatAutoConfiguration.class,
            ToolCallingAutoConfiguration.class, ChatClientAutoConfiguration.class,
            SafeRunAutoConfiguration.class))
        .withPropertyValues("spring.ai.openai.base-url=" + openAi.baseUrl(),
            "spring.ai.openai.api-key=test-key", "spring.ai.openai.chat.model=gpt-4o-mini",
            "spring.ai.openai.max-retries=0",
            "saferun.policies=classpath:policies/support.yaml", "saferun.reload.enabled=false")
        .withBean(SupportTools.class, SupportTools::new)
        .run(ctx -> {
          SupportTools tools = ctx.getBean(SupportTools.class);

          ChatClient.create(ctx.getBean(OpenAiChatModel.class)).prompt("refund").tools(tools)
              .toolContext(SafeRunToolContext.of("user", "u1")).call().content();

          // The model asks SafeRun's manager bean for the definitions: delete_customer is not sent.
          assertThat(openAi.toolNames(0)).doesNotContain("delete_customer");
          // But the fresh tool loop of a hand-built client runs the tool unguarded.
          assertThat(tools.ran).containsExactly("create_refund cus_1 900");
        });
  }
}
