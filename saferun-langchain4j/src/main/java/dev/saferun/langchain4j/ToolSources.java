package dev.saferun.langchain4j;

import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.agent.tool.ToolSpecifications;
import dev.langchain4j.service.tool.AiServiceTool;
import dev.langchain4j.service.tool.DefaultToolExecutor;
import dev.langchain4j.service.tool.ToolExecutor;
import dev.langchain4j.service.tool.ToolProvider;
import dev.langchain4j.service.tool.ToolService;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Sorts the tool sources a user hands over into tools known up front and providers asked per
 * invocation. Stateless.
 */
final class ToolSources {
  final List<AiServiceTool> tools = new ArrayList<>();
  final List<ToolProvider> providers = new ArrayList<>();

  private ToolSources() {}

  /**
   * Accepts {@code @Tool} objects, {@code Map<ToolSpecification, ToolExecutor>},
   * {@link AiServiceTool}s, {@link ToolProvider}s (e.g. {@code McpToolProvider}) and
   * collections of these.
   *
   * @throws IllegalArgumentException for a source of no known kind, or a tool name given twice
   */
  static ToolSources of(Object... sources) {
    ToolSources s = new ToolSources();
    for (Object source : sources) {
      s.add(source, true);
    }
    Set<String> names = new HashSet<>();
    for (AiServiceTool t : s.tools) {
      if (!names.add(t.name())) {
        throw new IllegalArgumentException("Tool '" + t.name() + "' is defined more than once");
      }
    }
    return s;
  }

  private void add(Object source, boolean nestedAllowed) {
    Objects.requireNonNull(source, "tool source");
    if (source instanceof ToolProvider) {
      providers.add((ToolProvider) source);
    } else if (source instanceof AiServiceTool) {
      tools.add((AiServiceTool) source);
    } else if (source instanceof Map) {
      for (Map.Entry<?, ?> e : ((Map<?, ?>) source).entrySet()) {
        if (!(e.getKey() instanceof ToolSpecification) || !(e.getValue() instanceof ToolExecutor)) {
          throw new IllegalArgumentException("A map of tools must map ToolSpecification to"
              + " ToolExecutor, got " + typeName(e.getKey()) + " -> " + typeName(e.getValue()));
        }
        tools.add(AiServiceTool.builder().toolSpecification((ToolSpecification) e.getKey())
            .toolExecutor((ToolExecutor) e.getValue()).build());
      }
    } else if (source instanceof Collection && nestedAllowed) {
      for (Object o : (Collection<?>) source) {
        add(o, false);
      }
    } else if (source instanceof Class || source instanceof Iterable) {
      throw new IllegalArgumentException("Tool source " + source + " must be an object with @Tool"
          + " methods, a Map<ToolSpecification, ToolExecutor>, an AiServiceTool or a ToolProvider");
    } else {
      tools.addAll(scan(source));
    }
  }

  /**
   * The tools of an object with {@code @Tool} methods, exactly as AI Services builds them. Uses
   * LangChain4j's own scan when present (it validates {@code @P} and handles proxies the way AI
   * Services does) and an equivalent one built on public API otherwise.
   */
  static List<AiServiceTool> scan(Object object) {
    try {
      return ToolService.findTools(object);
    } catch (LinkageError e) {
      return scanPublic(object);
    }
  }

  /** The public-API scan: every {@code @Tool} method of the class, its supertypes, interfaces. */
  static List<AiServiceTool> scanPublic(Object object) {
    List<AiServiceTool> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (Method m : methods(object.getClass())) {
      Method annotated = annotated(m);
      if (annotated == null || !seen.add(m.getName() + List.of(m.getParameterTypes()))) {
        continue;
      }
      out.add(AiServiceTool.builder()
          .toolSpecification(ToolSpecifications.toolSpecificationFrom(annotated))
          .toolExecutor(DefaultToolExecutor.builder().object(object).originalMethod(annotated)
              .methodToInvoke(annotated).wrapToolArgumentsExceptions(true)
              .propagateToolExecutionExceptions(true).build())
          .returnBehavior(annotated.getAnnotation(Tool.class).returnBehavior())
          .build());
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("Object '" + object.getClass().getName()
          + "' does not have any methods annotated with @Tool");
    }
    return out;
  }

  private static List<Method> methods(Class<?> type) {
    List<Method> out = new ArrayList<>();
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Method m : c.getDeclaredMethods()) {
        if (!m.isBridge() && !m.isSynthetic()) {
          out.add(m);
        }
      }
    }
    for (Class<?> i : interfaces(type)) {
      for (Method m : i.getDeclaredMethods()) {
        if (!m.isBridge() && !m.isSynthetic() && !Modifier.isAbstract(m.getModifiers())) {
          out.add(m);
        }
      }
    }
    return out;
  }

  private static Set<Class<?>> interfaces(Class<?> type) {
    Set<Class<?>> out = new java.util.LinkedHashSet<>();
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      collect(c.getInterfaces(), out);
    }
    return out;
  }

  private static void collect(Class<?>[] types, Set<Class<?>> out) {
    for (Class<?> i : types) {
      if (out.add(i)) {
        collect(i.getInterfaces(), out);
      }
    }
  }

  private static Method annotated(Method m) {
    if (m.isAnnotationPresent(Tool.class)) {
      return m;
    }
    if (Proxy.isProxyClass(m.getDeclaringClass())) {
      for (Class<?> i : m.getDeclaringClass().getInterfaces()) {
        try {
          Method im = i.getMethod(m.getName(), m.getParameterTypes());
          if (im.isAnnotationPresent(Tool.class)) {
            return im;
          }
        } catch (NoSuchMethodException e) {
          // not declared by this interface
        }
      }
    }
    return null;
  }

  private static String typeName(Object o) {
    return o == null ? "null" : o.getClass().getName();
  }
}
