package dev.saferun.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.invocation.InvocationContext;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.tool.BeforeToolExecution;
import dev.langchain4j.service.tool.ToolExecutor;
import dev.langchain4j.service.tool.ToolProvider;
import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * SafeRun for LangChain4j: every tool call an AI Service (or agent) makes is decided by SafeRun,
 * in-process, before the tool runs.
 *
 * <pre>{@code
 * SafeRunLangChain4j saferun = SafeRunLangChain4j.builder(safeRun).agent("support").build();
 * SupportAgent agent = saferun.install(AiServices.builder(SupportAgent.class), new CrmTools(), mcp)
 *     .chatModel(model)
 *     .chatMemoryProvider(id -> MessageWindowChatMemory.withMaxMessages(50))
 *     .build();
 * }</pre>
 *
 * <p>Three ways in, from the most to the least complete:
 * <ul>
 *   <li>{@link #install} registers all of an AI Service's tools through SafeRun: the
 *       {@link #toolProvider tool provider} below, a hallucinated-tool-name strategy that answers a
 *       call to a hidden or unknown tool with a denial instead of aborting the request, and a
 *       {@code beforeToolExecution} hook that gives that strategy the caller's identity. Your own
 *       strategy and hook, given to the {@link Builder}, still run.
 *   <li>{@link #toolProvider} builds one {@link ToolProvider} from {@code @Tool} objects,
 *       {@code Map<ToolSpecification, ToolExecutor>}, {@code AiServiceTool}s and other providers
 *       (such as {@code McpToolProvider}). Each invocation it leaves out the tools the policy
 *       hides for that invocation's context, and every tool it hands out is guarded.
 *   <li>{@link #wrap} guards a single {@link ToolExecutor}, e.g. as
 *       {@code McpToolProvider.builder().toolWrapper(saferun::wrap)}. It enforces but cannot
 *       hide.
 * </ul>
 *
 * <p><b>What the model sees.</b> A denied call does not run; its tool result is
 * {@code [SAFERUN POLICY DENIED] <message>}, marked as an error result (providers that transmit
 * the flag, such as Anthropic, send it; OpenAI receives the text only). A call held in
 * {@code defer} mode returns {@code [SAFERUN APPROVAL REQUIRED] <message> (approval apr_…)},
 * not marked as an error. In {@code wait} mode the tool call blocks until a human decides; an
 * approved call runs with the approved, possibly edited, arguments, and when they were edited the
 * result starts with {@code [SAFERUN APPROVED WITH CHANGES] …} because LangChain4j's memory still
 * holds the model's original arguments. Results carry {@code saferun.*} attributes (outcome,
 * policy, rule, approval), which LangChain4j stores with the message but never sends.
 *
 * <p><b>Identity.</b> Each call's {@link CallContext} is, from lowest to highest precedence: the
 * {@linkplain Builder#context base context}; {@code agent} = the configured
 * {@linkplain Builder#agent agent name}, else the simple name of the AI Service interface (or agent
 * interface); {@code run} = the chat memory id ({@code "default"} without {@code @MemoryId});
 * the invocation parameters {@code user} and {@code tenant} and any others mapped with
 * {@link Builder#parameter}; every invocation parameter named {@code saferun.<key>}, as
 * {@code <key>}; and the result of a {@linkplain Builder#contextMapper custom mapper}. Only
 * strings, numbers, booleans, enums and UUIDs become attributes.
 *
 * <p><b>Failures.</b> A tool that throws has its counters refunded and the exception goes on to
 * LangChain4j's error handlers, as without SafeRun; a tool that returns an error result has its
 * counters refunded and the result goes to the model unchanged.
 *
 * <p>Thread-safe: one instance serves every AI Service and thread; parallel tool calls of one
 * model response are decided independently (see {@code executeToolsConcurrently}).
 */
public final class SafeRunLangChain4j {
  /** Attribute of a tool result: {@code allow}, {@code deny} or {@code hold}. */
  public static final String ATTRIBUTE_OUTCOME = "saferun.outcome";
  /** Attribute of a tool result: the deciding policy. */
  public static final String ATTRIBUTE_POLICY = "saferun.policy";
  /** Attribute of a tool result: the deciding rule. */
  public static final String ATTRIBUTE_RULE = "saferun.rule";
  /** Attribute of a tool result: the approval request's id. */
  public static final String ATTRIBUTE_APPROVAL = "saferun.approval";
  /** Attribute of a tool result: who approved the call. */
  public static final String ATTRIBUTE_APPROVER = "saferun.approver";
  /** Attribute of a tool result: the arguments the call ran with after an approver's edit. */
  public static final String ATTRIBUTE_ARGUMENTS = "saferun.arguments";

  private final SafeRun safeRun;
  private final Identity identity;
  private final Function<ToolExecutionRequest, ToolExecutionResultMessage> unknownToolStrategy;
  private final Consumer<BeforeToolExecution> beforeToolExecution;
  /**
   * The invocation of the tool call about to run on this thread, set by the
   * {@code beforeToolExecution} hook: LangChain4j calls that hook, looks the tool up and, for an
   * unknown name, calls the hallucination strategy, all on one thread; the strategy itself only
   * gets the request.
   */
  private final ThreadLocal<InvocationContext> invocation = new ThreadLocal<>();

  private SafeRunLangChain4j(Builder b) {
    this.safeRun = b.safeRun;
    this.identity = new Identity(b.context, b.agent, b.parameters, b.contextMapper);
    this.unknownToolStrategy = b.unknownToolStrategy;
    this.beforeToolExecution = b.beforeToolExecution;
  }

  /** The adapter with default identity mapping (see the class description). */
  public static SafeRunLangChain4j create(SafeRun safeRun) {
    return builder(safeRun).build();
  }

  /** Starts configuring the adapter for {@code safeRun}. */
  public static Builder builder(SafeRun safeRun) {
    return new Builder(safeRun);
  }

  /**
   * Makes {@code services} use SafeRun for every tool it calls: registers
   * {@link #toolProvider toolProvider(tools)} and installs the hallucinated-tool-name strategy and
   * the {@code beforeToolExecution} hook described above. Register every tool through this call:
   * tools added to the builder directly are not guarded, and LangChain4j rejects a name defined
   * twice. Setting {@code hallucinatedToolNameStrategy} or {@code beforeToolExecution} on the
   * builder afterwards replaces SafeRun's; give yours to {@link Builder} instead.
   *
   * @param tools {@code @Tool} objects, {@code Map<ToolSpecification, ToolExecutor>},
   *     {@code AiServiceTool}s, {@link ToolProvider}s, or collections of these
   * @return {@code services}, for chaining
   */
  public <T> AiServices<T> install(AiServices<T> services, Object... tools) {
    Objects.requireNonNull(services, "services");
    services.toolProvider(toolProvider(tools));
    services.hallucinatedToolNameStrategy(this::unavailableTool);
    services.beforeToolExecution(this::beforeToolExecution);
    return services;
  }

  /**
   * One provider for all of {@code tools}, guarded and filtered per invocation (see the class
   * description). Dynamic if a wrapped provider is.
   *
   * @param tools {@code @Tool} objects, {@code Map<ToolSpecification, ToolExecutor>},
   *     {@code AiServiceTool}s, {@link ToolProvider}s, or collections of these
   * @throws IllegalArgumentException for an object without {@code @Tool} methods, a source of no
   *     known kind, or a tool name defined twice
   */
  public ToolProvider toolProvider(Object... tools) {
    return new GuardedToolProvider(this, ToolSources.of(tools));
  }

  /**
   * Guards one tool executor. The policy sees the request's tool name (the name the model
   * used) and arguments, and the identity taken from the invocation context. Both
   * {@code executeWithContext} (used by AI Services) and the legacy {@code execute} (which only
   * knows the memory id) are guarded.
   */
  public ToolExecutor wrap(ToolExecutor tool) {
    if (tool instanceof GuardedToolExecutor && ((GuardedToolExecutor) tool).owner() == this) {
      return tool;
    }
    return new GuardedToolExecutor(this, tool);
  }

  /** The call context SafeRun uses for a tool call made in this invocation. */
  public CallContext context(InvocationContext invocationContext) {
    return identity.context(invocationContext);
  }

  /** The SafeRun instance that decides. */
  public SafeRun safeRun() {
    return safeRun;
  }

  void forgetInvocation() {
    invocation.remove();
  }

  private void beforeToolExecution(BeforeToolExecution before) {
    invocation.set(before.invocationContext());
    if (beforeToolExecution != null) {
      beforeToolExecution.accept(before);
    }
  }

  /**
   * A call to a tool the AI Service does not have: hidden by the policy for this caller, or
   * unknown. A hidden tool is decided (and audited) like any call, which denies it; an unknown
   * one goes to the user's strategy, or is refused.
   */
  private ToolExecutionResultMessage unavailableTool(ToolExecutionRequest request) {
    InvocationContext ic = invocation.get();
    invocation.remove();
    CallContext context = identity.context(ic);
    String name = request.name() == null ? "" : request.name();
    if (safeRun.visibleTools(List.of(name), context).isEmpty()) {
      Decision d = safeRun.evaluate(new ToolCall(name, request.arguments(), context));
      if (d.isDenied()) {
        return ToolExecutionResultMessage.from(request, d.toModelText());
      }
      if (d.isAllowed()) {
        // Only after a policy reload between listing and calling: nothing runs.
        safeRun.refund(d);
      }
    }
    if (unknownToolStrategy != null) {
      return unknownToolStrategy.apply(request);
    }
    return ToolExecutionResultMessage.from(request,
        Decision.DENIED_PREFIX + "Tool \"" + name + "\" is not available");
  }

  /**
   * Configures a {@link SafeRunLangChain4j}. Not thread-safe; build once and share the result.
   */
  public static final class Builder {
    private final SafeRun safeRun;
    private CallContext context = CallContext.empty();
    private String agent;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private Function<InvocationContext, CallContext> contextMapper;
    private Function<ToolExecutionRequest, ToolExecutionResultMessage> unknownToolStrategy;
    private Consumer<BeforeToolExecution> beforeToolExecution;

    private Builder(SafeRun safeRun) {
      this.safeRun = Objects.requireNonNull(safeRun, "safeRun");
      parameters.put(CallContext.USER, CallContext.USER);
      parameters.put(CallContext.TENANT, CallContext.TENANT);
    }

    /** The agent name for every call (context {@code agent}); default: the interface's name. */
    public Builder agent(String agent) {
      this.agent = requireText(agent, "agent");
      return this;
    }

    /** Attributes every call carries, e.g. {@code CallContext.of("environment", "prod")}. */
    public Builder context(CallContext context) {
      this.context = Objects.requireNonNull(context, "context");
      return this;
    }

    /**
     * Copies the invocation parameter {@code parameterName} into the context attribute
     * {@code contextKey}, e.g. {@code parameter("customerId", "user")}. {@code user} and
     * {@code tenant} are mapped to themselves by default.
     */
    public Builder parameter(String parameterName, String contextKey) {
      parameters.put(requireText(parameterName, "parameterName"),
          requireText(contextKey, "contextKey"));
      return this;
    }

    /**
     * Adds attributes computed from the invocation (merged last, so they win). The function runs
     * on the thread that makes the tool call and must be thread-safe; it may return
     * {@code null} for none.
     */
    public Builder contextMapper(Function<InvocationContext, CallContext> mapper) {
      this.contextMapper = Objects.requireNonNull(mapper, "mapper");
      return this;
    }

    /**
     * Your answer for a tool name that no source knows and the policy does not hide (a
     * hallucinated name). Default: {@code [SAFERUN POLICY DENIED] Tool "<name>" is not
     * available}. Calls to hidden tools are always answered by SafeRun.
     */
    public Builder hallucinatedToolNameStrategy(
        Function<ToolExecutionRequest, ToolExecutionResultMessage> strategy) {
      this.unknownToolStrategy = Objects.requireNonNull(strategy, "strategy");
      return this;
    }

    /** Your {@code beforeToolExecution} hook, run after SafeRun's by {@link #install}. */
    public Builder beforeToolExecution(Consumer<BeforeToolExecution> hook) {
      this.beforeToolExecution = Objects.requireNonNull(hook, "hook");
      return this;
    }

    /** Builds the adapter. */
    public SafeRunLangChain4j build() {
      return new SafeRunLangChain4j(this);
    }

    private static String requireText(String value, String name) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException(name + " must not be blank, got '" + value + "'");
      }
      return value;
    }
  }
}
