package dev.saferun.examples.springai;

import dev.saferun.springai.SafeRunToolContext;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.memory.ChatMemory;
import org.springframework.stereotype.Service;

/**
 * The support agent: an ordinary Spring AI {@code ChatClient} with the CRM tools. Nothing here
 * is SafeRun-specific except the caller's identity in the tool context: the auto-configured
 * {@code ChatClient.Builder} already carries SafeRun's advisor, and the tool calling manager is
 * SafeRun's.
 *
 * <p>Thread-safe.
 */
@Service
public class SupportAgent {
  private final ChatClient chat;

  public SupportAgent(ChatClient.Builder builder, CrmTools crm) {
    this.chat = builder
        .defaultSystem("You are Acme's customer support agent. Use the tools to resolve the ticket.")
        .defaultTools(crm)
        .build();
  }

  /**
   * Handles one ticket: the ticket id is the conversation (SafeRun's {@code run}, which its
   * per-conversation refund counter is keyed by); user and tenant come from the caller.
   */
  public String resolve(String ticketId, String ticket, String user, String tenant) {
    return chat.prompt()
        .user(ticket)
        .advisors(a -> a.param(ChatMemory.CONVERSATION_ID, ticketId))
        .toolContext(SafeRunToolContext.of("user", user, "tenant", tenant))
        .call()
        .content();
  }
}
