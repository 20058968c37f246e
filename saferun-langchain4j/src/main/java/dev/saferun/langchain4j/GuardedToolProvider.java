package dev.saferun.langchain4j;

import dev.langchain4j.service.tool.AiServiceTool;
import dev.langchain4j.service.tool.ToolProvider;
import dev.langchain4j.service.tool.ToolProviderRequest;
import dev.langchain4j.service.tool.ToolProviderResult;
import dev.saferun.CallContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolSpecification;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link ToolProvider} over every tool source: each tool's executor asks SafeRun first, and
 * tools the policy hides for the invocation's context are left out of what the model sees.
 * Registers each tool's parameter schema with SafeRun (for {@code schema: strict}). Thread-safe:
 * safe for concurrent invocations.
 */
final class GuardedToolProvider implements ToolProvider {
  private static final Logger LOG = LoggerFactory.getLogger(GuardedToolProvider.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SafeRunLangChain4j owner;
  private final List<AiServiceTool> tools;
  private final List<ToolProvider> providers;
  private final boolean dynamic;
  /** The parameter schema last registered with SafeRun, per tool name. */
  private final Map<String, String> schemas = new ConcurrentHashMap<>();

  GuardedToolProvider(SafeRunLangChain4j owner, ToolSources sources) {
    this.owner = owner;
    List<AiServiceTool> wrapped = new ArrayList<>();
    for (AiServiceTool t : sources.tools) {
      wrapped.add(guard(t));
      register(t.toolSpecification(), true);
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
        register(t.toolSpecification(), false);
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

  /**
   * Gives SafeRun the JSON schema the model is shown for a tool's arguments, for policies with
   * {@code schema: strict}. A schema SafeRun cannot use is logged, and a strict policy then denies
   * the tool's calls (no schema registered); {@code failFast} is kept for callers' symmetry.
   */
  private void register(ToolSpecification spec, boolean failFast) {
    String schema;
    try {
      JsonNode parameters = JSON.readTree(spec.toJson()).get("parameters");
      schema = parameters == null || parameters.isNull() ? "{\"type\":\"object\"}"
          : parameters.toString();
      if (schema.equals(schemas.get(spec.name()))) {
        return;
      }
      owner.safeRun().registerSchema(spec.name(), schema);
    } catch (Exception e) {
      // Never fail the agent's set-up for this: only policies with schema: strict need the
      // schema, and they deny the tool's calls (fail closed) when it is missing.
      LOG.warn("Tool '{}': its parameter schema cannot be used by SafeRun ({}); policies with"
          + " schema: strict will deny its calls", spec.name(), e.getMessage());
      return;
    }
    schemas.put(spec.name(), schema);
  }

  private AiServiceTool guard(AiServiceTool t) {
    if (t.toolExecutor() instanceof GuardedToolExecutor
        && ((GuardedToolExecutor) t.toolExecutor()).owner() == owner) {
      return t;
    }
    return t.toBuilder().toolExecutor(new GuardedToolExecutor(owner, t.toolExecutor())).build();
  }
}
