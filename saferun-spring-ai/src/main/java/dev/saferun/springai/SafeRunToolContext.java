package dev.saferun.springai;

import dev.saferun.CallContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code ToolContext} keys through which a Spring AI application tells SafeRun who is calling:
 * every entry whose key starts with {@code saferun.} becomes a {@link CallContext} attribute
 * without the prefix ({@code saferun.user} → {@code context.user}), so policies can match on it
 * and key counters by it. Spring AI's conversation id ({@code chat_memory_conversation_id}, set
 * as an advisor parameter or a tool context entry) becomes {@code run} unless
 * {@code saferun.run} is given.
 *
 * <pre>{@code
 * chatClient.prompt(question)
 *     .toolContext(SafeRunToolContext.of(CallContext.of("user", "u-17", "tenant", "acme")))
 *     .advisors(a -> a.param(ChatMemory.CONVERSATION_ID, "ticket-4711"))
 *     .call().content();
 * }</pre>
 *
 * <p>SafeRun removes its own keys before a call reaches an MCP tool, so they are never sent to a
 * remote server as MCP {@code _meta}. Stateless and thread-safe.
 */
public final class SafeRunToolContext {
  /** The prefix of SafeRun's keys. */
  public static final String PREFIX = "saferun.";
  /** The calling user ({@code context.user}). */
  public static final String USER = PREFIX + CallContext.USER;
  /** The tenant ({@code context.tenant}). */
  public static final String TENANT = PREFIX + CallContext.TENANT;
  /** The agent ({@code context.agent}). */
  public static final String AGENT = PREFIX + CallContext.AGENT;
  /** The environment ({@code context.environment}). */
  public static final String ENVIRONMENT = PREFIX + CallContext.ENVIRONMENT;
  /** One agent run or conversation ({@code context.run}). */
  public static final String RUN = PREFIX + CallContext.RUN;
  /** Spring AI's conversation id key ({@code ChatMemory.CONVERSATION_ID}); mapped to {@code run}. */
  public static final String CONVERSATION_ID = "chat_memory_conversation_id";

  private SafeRunToolContext() {}

  /** Tool context entries carrying every attribute of {@code context}, for {@code .toolContext(..)}. */
  public static Map<String, Object> of(CallContext context) {
    Objects.requireNonNull(context, "context");
    Map<String, Object> out = new LinkedHashMap<>();
    context.asMap().forEach((k, v) -> out.put(PREFIX + k, v));
    return out;
  }

  /** Tool context entries from alternating attribute names and values: {@code of("user", "u-17")}. */
  public static Map<String, Object> of(String... attributesAndValues) {
    return of(CallContext.of(attributesAndValues));
  }

  /**
   * The SafeRun attributes found in a tool context (or in advisor parameters): {@code saferun.*}
   * entries without the prefix, and the conversation id as {@code run} when there is no
   * {@code saferun.run}. Values that are not strings are converted with {@code toString()};
   * null and blank values are skipped.
   */
  public static CallContext toCallContext(Map<String, ?> entries) {
    if (entries == null || entries.isEmpty()) {
      return CallContext.empty();
    }
    Map<String, String> attributes = new LinkedHashMap<>();
    entries.forEach((k, v) -> {
      if (k != null && k.startsWith(PREFIX) && k.length() > PREFIX.length() && usable(v)) {
        attributes.put(k.substring(PREFIX.length()), v.toString());
      }
    });
    Object conversation = entries.get(CONVERSATION_ID);
    if (!attributes.containsKey(CallContext.RUN) && usable(conversation)) {
      attributes.put(CallContext.RUN, conversation.toString());
    }
    return CallContext.of(attributes);
  }

  /** The entries that are not SafeRun's ({@code saferun.*} removed); the same map if none are. */
  public static Map<String, Object> withoutSafeRunKeys(Map<String, Object> entries) {
    if (entries == null || entries.isEmpty()) {
      return entries;
    }
    boolean any = false;
    for (String k : entries.keySet()) {
      if (k != null && k.startsWith(PREFIX)) {
        any = true;
        break;
      }
    }
    if (!any) {
      return entries;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    entries.forEach((k, v) -> {
      if (k == null || !k.startsWith(PREFIX)) {
        out.put(k, v);
      }
    });
    return out;
  }

  private static boolean usable(Object v) {
    return v != null && !v.toString().isBlank();
  }
}
