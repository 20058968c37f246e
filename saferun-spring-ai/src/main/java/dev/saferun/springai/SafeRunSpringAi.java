package dev.saferun.springai;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.SafeRun;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;
import org.springframework.ai.tool.method.MethodToolCallbackProvider;
import org.springframework.ai.tool.observation.ToolCallingObservationContext;

/**
 * SafeRun for Spring AI: wraps tools so every call is decided by a {@link SafeRun} before it
 * runs, and builds the advisor and tool calling manager that hide tools per request and keep a
 * request alive when the model names a tool it may not use.
 *
 * <pre>{@code
 * SafeRunSpringAi saferun = SafeRunSpringAi.builder(safeRun)
 *     .defaultContext(CallContext.of("agent", "support"))
 *     .build();
 * ChatClient chat = ChatClient.builder(chatModel, observations, null, null,
 *         ToolCallingAdvisor.builder().toolCallingManager(saferun.toolCallingManager()))
 *     .defaultAdvisors(saferun.advisor())
 *     .defaultTools(supportTools)      // @Tool object, ToolCallback or ToolCallbackProvider
 *     .build();
 * }</pre>
 *
 * <p>What each piece does: {@link #wrap(ToolCallback)} returns a {@link SafeRunToolCallback}
 * that evaluates the call, runs the tool only if allowed and returns the text the model should
 * see ({@code [SAFERUN POLICY DENIED] …} for a denial). {@link #advisor()} removes hidden tools
 * from each request, wraps the rest, and copies identity from advisor parameters into the tool
 * context. {@link #toolCallingManager(ToolCallingManager)} answers calls to hidden or unknown
 * tools with a denial instead of failing the request, wraps any callback that is not wrapped yet,
 * and makes approval holds resumable.
 *
 * <p>Immutable and thread-safe: one instance serves every request.
 */
public final class SafeRunSpringAi {
  /** Observation key set on Spring AI's {@code spring.ai.tool} observation: allow, deny or hold. */
  public static final String DECISION_KEY = "saferun.decision";
  /** Observation key for the would-be decision of shadow rules, when any ran. */
  public static final String SHADOW_KEY = "saferun.shadow";

  private final SafeRun safeRun;
  private final CallContext defaultContext;
  private final OnHold onHold;
  private final ObservationRegistry observations;
  private final Predicate<ToolCallback> stripContext;

  private SafeRunSpringAi(Builder b) {
    this.safeRun = b.safeRun;
    this.defaultContext = b.defaultContext;
    this.onHold = b.onHold;
    this.observations = b.observations;
    this.stripContext = b.stripContext;
  }

  /** SafeRun for Spring AI with the defaults (no default context, holds as text). */
  public static SafeRunSpringAi of(SafeRun safeRun) {
    return builder(safeRun).build();
  }

  /** Starts configuring SafeRun for Spring AI. */
  public static Builder builder(SafeRun safeRun) {
    return new Builder(safeRun);
  }

  /** The SafeRun instance that decides. */
  public SafeRun safeRun() {
    return safeRun;
  }

  /** Attributes every call carries unless the request's tool context sets them. */
  public CallContext defaultContext() {
    return defaultContext;
  }

  /** What a {@code defer}-mode hold does. */
  public OnHold onHold() {
    return onHold;
  }

  /**
   * A tool that runs only the calls SafeRun allows. Definition and metadata ({@code returnDirect})
   * are the delegate's. A tool that is already wrapped is returned as it is.
   */
  public ToolCallback wrap(ToolCallback tool) {
    Objects.requireNonNull(tool, "tool");
    if (tool instanceof SafeRunToolCallback) {
      return tool;
    }
    return new SafeRunToolCallback(tool, this, stripContext.test(tool));
  }

  /** {@link #wrap(ToolCallback)} for each tool, in order. */
  public List<ToolCallback> wrapAll(List<? extends ToolCallback> tools) {
    List<ToolCallback> out = new ArrayList<>(tools.size());
    for (ToolCallback t : tools) {
      out.add(wrap(t));
    }
    return out;
  }

  /** {@link #wrap(ToolCallback)} for each tool, in order. */
  public ToolCallback[] wrapAll(ToolCallback... tools) {
    return wrapAll(List.of(tools)).toArray(new ToolCallback[0]);
  }

  /**
   * A provider whose tools are {@linkplain #wrap(ToolCallback) wrapped} each time they are asked
   * for, so tools a provider discovers later (an MCP server's {@code tools/list_changed}) are
   * wrapped too.
   */
  public ToolCallbackProvider wrap(ToolCallbackProvider provider) {
    Objects.requireNonNull(provider, "provider");
    if (provider instanceof WrappingToolCallbackProvider) {
      return provider;
    }
    return new WrappingToolCallbackProvider(provider, this);
  }

  /** The {@code @Tool} methods of these objects, wrapped (AOP proxies are supported). */
  public ToolCallbackProvider wrapTools(Object... toolObjects) {
    return wrap(MethodToolCallbackProvider.builder().toolObjects(toolObjects).build());
  }

  /** The advisor that hides tools per request and carries identity into the tool context. */
  public SafeRunAdvisor advisor() {
    return new SafeRunAdvisor(this, request -> CallContext.empty(), SafeRunAdvisor.DEFAULT_ORDER);
  }

  /** A decorator of {@code delegate} (typically the {@code ToolCallingManager} bean). */
  public SafeRunToolCallingManager toolCallingManager(ToolCallingManager delegate) {
    Objects.requireNonNull(delegate, "delegate");
    if (delegate instanceof SafeRunToolCallingManager s) {
      return s;
    }
    return new SafeRunToolCallingManager(delegate, this);
  }

  /** A decorator of a default Spring AI manager observed through this instance's registry. */
  public SafeRunToolCallingManager toolCallingManager() {
    return toolCallingManager(ToolCallingManager.builder().observationRegistry(observations).build());
  }

  /** The call context for a request's tool context: the defaults, overridden by its entries. */
  public CallContext callContext(Map<String, ?> toolContext) {
    return defaultContext.merge(SafeRunToolContext.toCallContext(toolContext));
  }

  /** The tools the model may see in this context, wrapped, in the given order. */
  public List<ToolCallback> visible(List<? extends ToolCallback> tools, CallContext context) {
    if (tools == null || tools.isEmpty()) {
      return List.of();
    }
    List<String> names = new ArrayList<>(tools.size());
    for (ToolCallback t : tools) {
      names.add(t.getToolDefinition().name());
    }
    Set<String> visible = new HashSet<>(safeRun.visibleTools(names, context));
    List<ToolCallback> out = new ArrayList<>(tools.size());
    for (ToolCallback t : tools) {
      if (visible.contains(t.getToolDefinition().name())) {
        out.add(wrap(t));
      }
    }
    return out;
  }

  /** Tags the current {@code spring.ai.tool} observation, if any, with the decision. */
  void tag(Decision d) {
    Observation o = observations.getCurrentObservation();
    if (o == null || !(o.getContext() instanceof ToolCallingObservationContext)) {
      return;
    }
    o.lowCardinalityKeyValue(DECISION_KEY, d.outcome().name().toLowerCase(Locale.ROOT));
    if (d.shadow() != null) {
      o.lowCardinalityKeyValue(SHADOW_KEY, d.shadow().outcome().name().toLowerCase(Locale.ROOT));
    }
  }

  /** Whether a tool talks to an MCP server (its tool context would be sent as {@code _meta}). */
  static boolean isMcp(ToolCallback tool) {
    for (Class<?> c = tool.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      if (c.getName().startsWith("org.springframework.ai.mcp.")) {
        return true;
      }
    }
    return false;
  }

  /** Configures {@link SafeRunSpringAi}. Not thread-safe; build once and share the result. */
  public static final class Builder {
    private final SafeRun safeRun;
    private CallContext defaultContext = CallContext.empty();
    private OnHold onHold = OnHold.TEXT;
    private ObservationRegistry observations = ObservationRegistry.NOOP;
    private Predicate<ToolCallback> stripContext = SafeRunSpringAi::isMcp;

    private Builder(SafeRun safeRun) {
      this.safeRun = Objects.requireNonNull(safeRun, "safeRun");
    }

    /** Attributes every call carries unless the tool context sets them (e.g. agent, environment). */
    public Builder defaultContext(CallContext context) {
      this.defaultContext = Objects.requireNonNull(context, "context");
      return this;
    }

    /** What a {@code defer}-mode hold does. Default {@link OnHold#TEXT}. */
    public Builder onHold(OnHold onHold) {
      this.onHold = Objects.requireNonNull(onHold, "onHold");
      return this;
    }

    /**
     * The registry whose current {@code spring.ai.tool} observation gets the
     * {@value #DECISION_KEY} key; the one the {@code ToolCallingManager} observes with. Default
     * {@link ObservationRegistry#NOOP}.
     */
    public Builder observationRegistry(ObservationRegistry registry) {
      this.observations = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Which tools get the tool context without SafeRun's {@code saferun.*} keys. Default: MCP
     * tools (classes in {@code org.springframework.ai.mcp}), whose tool context is sent to the
     * server. Other tools keep them: a {@code @Tool} method with a {@code ToolContext} parameter
     * fails on an empty context.
     */
    public Builder stripSafeRunKeysFor(Predicate<ToolCallback> tools) {
      this.stripContext = Objects.requireNonNull(tools, "tools");
      return this;
    }

    /** Builds the instance. */
    public SafeRunSpringAi build() {
      return new SafeRunSpringAi(this);
    }
  }
}
