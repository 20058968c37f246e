package dev.saferun.springai;

import dev.saferun.CallContext;
import org.springframework.ai.chat.client.ChatClientRequest;

/**
 * Derives SafeRun context attributes from a chat request, on the thread that makes the request
 * (where, for a blocking {@code call()}, thread-bound state such as Spring Security's
 * {@code SecurityContextHolder} is still available). The {@link SafeRunAdvisor} puts the result
 * into the request's tool context, where tools on any thread (streaming runs tools on
 * Reactor's {@code boundedElastic} threads) find it. Entries the request already sets win.
 *
 * <pre>{@code
 * @Bean
 * SafeRunContextResolver currentUser() {
 *   return request -> {
 *     Authentication a = SecurityContextHolder.getContext().getAuthentication();
 *     return a == null ? CallContext.empty() : CallContext.of("user", a.getName());
 *   };
 * }
 * }</pre>
 *
 * <p>Implementations must be thread-safe; they are called concurrently by every request, must
 * not block, and should not throw (an exception fails the request).
 */
@FunctionalInterface
public interface SafeRunContextResolver {

  /** The attributes for this request; {@link CallContext#empty()} for none. */
  CallContext resolve(ChatClientRequest request);
}
