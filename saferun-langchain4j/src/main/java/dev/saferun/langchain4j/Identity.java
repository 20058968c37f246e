package dev.saferun.langchain4j;

import dev.langchain4j.invocation.InvocationContext;
import dev.langchain4j.invocation.InvocationParameters;
import dev.saferun.CallContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/** Maps LangChain4j's view of an invocation to SafeRun's {@link CallContext}. Immutable. */
final class Identity {
  /** Invocation parameters with this prefix become context attributes without it. */
  static final String PREFIX = "saferun.";

  private final CallContext base;
  private final String agent;
  private final Map<String, String> parameterKeys;
  private final Function<InvocationContext, CallContext> mapper;

  Identity(CallContext base, String agent, Map<String, String> parameterKeys,
      Function<InvocationContext, CallContext> mapper) {
    this.base = base;
    this.agent = agent;
    this.parameterKeys = Map.copyOf(parameterKeys);
    this.mapper = mapper;
  }

  /**
   * Lowest to highest precedence: the configured base context; {@code agent} (configured name,
   * else the AI Service interface's simple name); {@code run} (the chat memory id); mapped
   * invocation parameters; {@code saferun.*} invocation parameters; the custom mapper.
   */
  CallContext context(InvocationContext ic) {
    Map<String, String> m = new LinkedHashMap<>(base.asMap());
    String agentName = agent != null ? agent : ic == null ? null : simpleName(ic.interfaceName());
    if (agentName != null) {
      m.put(CallContext.AGENT, agentName);
    }
    if (ic == null) {
      return CallContext.of(m);
    }
    Object memoryId = ic.chatMemoryId();
    if (memoryId != null) {
      m.put(CallContext.RUN, String.valueOf(memoryId));
    }
    InvocationParameters params = ic.invocationParameters();
    if (params != null) {
      Map<String, Object> values = params.asMap();
      parameterKeys.forEach((from, to) -> {
        String v = scalar(values.get(from));
        if (v != null) {
          m.put(to, v);
        }
      });
      values.forEach((key, value) -> {
        if (key != null && key.startsWith(PREFIX) && key.length() > PREFIX.length()) {
          String v = scalar(value);
          if (v != null) {
            m.put(key.substring(PREFIX.length()), v);
          }
        }
      });
    }
    CallContext out = CallContext.of(m);
    if (mapper != null) {
      CallContext extra = mapper.apply(ic);
      if (extra != null) {
        out = out.merge(extra);
      }
    }
    return out;
  }

  /** Only values with an obvious text form; an arbitrary object's toString is not identity. */
  private static String scalar(Object v) {
    if (v instanceof CharSequence || v instanceof Number || v instanceof Boolean
        || v instanceof Enum<?> || v instanceof UUID || v instanceof Character) {
      return v.toString();
    }
    return null;
  }

  private static String simpleName(String interfaceName) {
    if (interfaceName == null || interfaceName.isBlank()) {
      return null;
    }
    int cut = Math.max(interfaceName.lastIndexOf('.'), interfaceName.lastIndexOf('$'));
    return interfaceName.substring(cut + 1);
  }
}
