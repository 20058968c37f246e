package dev.saferun.langchain4j;

import dev.langchain4j.service.tool.AiServiceTool;
import dev.langchain4j.service.tool.ToolProvider;
import dev.langchain4j.service.tool.ToolProviderRequest;
import dev.langchain4j.service.tool.ToolProviderResult;
import dev.saferun.CallContext;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@link ToolProvider} over every tool source: each tool's executor asks SafeRun first, and
 * tools the policy hides for the invocation's context are left out of what the model sees.
 * Immutable after construction; safe for concurrent invocations.
 */
final class GuardedToolProvider implements ToolProvider {
  private final SafeRunLangChain4j owner;
  private final List<AiServiceTool> tools;
  private final List<ToolProvider> providers;
  private final boolean dynamic;

  GuardedToolProvider(SafeRunLangChain4j owner, ToolSources sources) {
    this.owner = owner;
    List<AiServiceTool> wrapped = new ArrayList<>();
    for (AiServiceTool t : sources.tools) {
      wrapped.add(guard(t));
    }
    this.tools = List.copyOf(wrapped);
    this.providers = List.copyOf(sources.providers);
    this.dynamic = providers.stream().anyMatch(ToolProvider::isDynamic);
  }

  @Override
  public ToolProviderResult provideTools(ToolProviderRequest request) {
    Map<String, AiServiceTool> all = new LinkedHashMap<>();
    for (AiServiceTool t : tools) {
      all.put(t.name(), t);
    }
    for (ToolProvider p : providers) {
      ToolProviderResult r = p.provideTools(request);
      if (r == null) {
        continue;
      }
      for (AiServiceTool t : r.aiServiceTools()) {
        if (all.putIfAbsent(t.name(), guard(t)) != null) {
          throw new IllegalArgumentException("Tool '" + t.name() + "' is provided more than once"
              + " (by " + p.getClass().getName() + " and an earlier source)");
        }
      }
    }
    CallContext context = owner.context(request.invocationContext());
    Set<String> visible = new HashSet<>(
        owner.safeRun().visibleTools(new ArrayList<>(all.keySet()), context));
    ToolProviderResult.Builder out = ToolProviderResult.builder();
    all.forEach((name, tool) -> {
      if (visible.contains(name)) {
        out.add(tool);
      }
    });
    return out.build();
  }

  /** Dynamic when a wrapped provider is: LangChain4j then asks again before each model call. */
  @Override
  public boolean isDynamic() {
    return dynamic;
  }

  private AiServiceTool guard(AiServiceTool t) {
    if (t.toolExecutor() instanceof GuardedToolExecutor
        && ((GuardedToolExecutor) t.toolExecutor()).owner() == owner) {
      return t;
    }
    return t.toBuilder().toolExecutor(new GuardedToolExecutor(owner, t.toolExecutor())).build();
  }
}
