package dev.saferun;

import dev.saferun.Decision.Outcome;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.approval.ApprovalException;
import dev.saferun.approval.ApprovalRecord;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.approval.Approvals;
import dev.saferun.approval.OnPause;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import dev.saferun.internal.approval.ApprovalsImpl;
import dev.saferun.internal.engine.Engine;
import dev.saferun.internal.json.Arguments;
import dev.saferun.internal.json.Canonical;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicySet;
import dev.saferun.policy.Rule;
import dev.saferun.spi.ApprovalStore;
import dev.saferun.spi.StateStore;
import dev.saferun.spi.StateStoreException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy gate between an agent and its tools. Evaluates every tool call, in-process and
 * before the tool runs, against a {@link PolicySet}, and allows, denies or holds it for a human.
 *
 * <pre>{@code
 * SafeRun safeRun = SafeRun.builder()
 *     .policies(PolicySet.load(Path.of("support.yaml")))
 *     .onPause(request -> notifyHumans(request))
 *     .build();
 * ToolExecutor guarded = safeRun.wrap(refundTool);
 * String result = guarded.execute(ToolCall.of("create_refund", "{\"amount\":6000}"));
 * // "[SAFERUN POLICY DENIED] Single refund cannot exceed $50.00"
 * }</pre>
 *
 * <p><b>Fail closed.</b> Nothing that happens inside SafeRun reaches the host as an exception
 * from {@link #evaluate}: bad arguments, a failing state store, a failing audit sink or a bug
 * in evaluation all become a {@link Decision} that denies the call and says what failed. A call
 * that was not evaluated is never forwarded.
 *
 * <p>Thread-safe: one instance serves every thread of the application. {@link #reload} swaps
 * the policy set atomically; a call is evaluated against exactly one set.
 */
public final class SafeRun {
  private static final Logger LOG = LoggerFactory.getLogger(SafeRun.class);

  private volatile Engine engine;
  private final StateStore store;
  private final Clock clock;
  private final Map<String, BigDecimal> prices;
  private final Arguments arguments;
  private final boolean trace;
  private final AuditSink audit;
  private final AuditSink.FailurePolicy auditFailure;
  private final OnPause onPause;
  private final ApprovalsImpl approvals;
  private final AtomicLong sequence = new AtomicLong();
  private final StateFailure stateFailure;
  /** Message of an allow decided without counters (audited as such). */
  public static final String FAIL_OPEN_MESSAGE =
      "Allowed without counters (fail-open for non-financial counters): state store unavailable: ";
  /** Holds chained by later approval rules; beyond this a call is denied. */
  private static final int MAX_CHAINED_HOLDS = 5;

  private SafeRun(Builder b) {
    this.clock = b.clock;
    this.store = b.store != null ? b.store : StateStore.inMemory(b.clock);
    this.prices = Map.copyOf(b.prices);
    this.arguments = new Arguments(b.maxArgumentChars, b.maxArgumentDepth);
    this.trace = b.trace;
    this.audit = b.audit;
    this.auditFailure = b.auditFailure;
    this.onPause = b.onPause;
    this.stateFailure = b.stateFailure;
    this.approvals = new ApprovalsImpl(
        b.approvalStore != null ? b.approvalStore : ApprovalStore.inMemory(), clock, arguments,
        this::approvalEvent);
    this.engine = newEngine(b.policies);
  }

  /** Starts configuring a SafeRun. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Wraps a tool with SafeRun's defaults (system clock, in-memory counters, SLF4J decision log).
   * Denied and held calls return the text the model should see instead of running the tool.
   */
  public static ToolExecutor wrap(ToolExecutor tool, PolicySet policies, OnPause onPause) {
    return builder().policies(policies).onPause(onPause).build().wrap(tool);
  }

  /**
   * Decides a call: evaluates it, charges its counters if it is allowed, audits the decision and,
   * for a new hold, stores the approval request and hands it to the {@link OnPause} callback (an
   * identical call already waiting for approval gets the same request, not a new one). Never
   * throws for a problem inside SafeRun: such a problem denies the call (fail closed).
   *
   * <p>This method never consumes an approval: an approved call is run by {@link #run},
   * {@link #execute}, a {@link #wrap wrapped} tool, or {@link #runApproved}. If the caller runs
   * the tool itself after an allow and the tool fails, call {@link #refund(Decision)}.
   */
  public Decision evaluate(ToolCall call) {
    Objects.requireNonNull(call, "call");
    return decide(call, false).decision;
  }

  /**
   * Evaluates a call and, if allowed, runs the tool, following the holding policy's approval
   * mode: in {@code wait} mode the calling thread blocks (platform or virtual) until a human
   * decides or the request expires, then runs the re-evaluated call with the approved (possibly
   * edited) arguments; in {@code defer} mode it returns at once and the identical call, made
   * again after approval, runs once. A tool that throws has its counters refunded and the
   * exception rethrown.
   *
   * @throws Exception what the tool threw
   */
  public Execution run(ToolCall call, ToolExecutor tool) throws Exception {
    Objects.requireNonNull(call, "call");
    Objects.requireNonNull(tool, "tool");
    Step step = decide(call, true);
    for (int i = 0; step.decision.isHeld() && step.decision.approval() != null
        && step.decision.approval().waitMode() && i < MAX_CHAINED_HOLDS; i++) {
      step = await(step.decision.approval());
    }
    if (step.decision.isHeld() && step.decision.approval() != null
        && step.decision.approval().waitMode()) {
      step = new Step(Decision.deny(step.decision.policy(), step.decision.policyVersion(),
          step.decision.rule(), "Too many approval holds in a row for one call"), step.call,
          step.approval, step.redacted);
    }
    return invoke(step, tool);
  }

  /**
   * Like {@link #run} but returns the text for the model: the tool's result, or the
   * {@code [SAFERUN …]} text of a denied or held call ({@link Execution#text()}).
   *
   * @throws Exception what the tool threw; its counters were refunded first
   */
  public String execute(ToolCall call, ToolExecutor tool) throws Exception {
    return run(call, tool).text();
  }

  /** A tool that runs only the calls this SafeRun allows (see {@link #run}). */
  public ToolExecutor wrap(ToolExecutor tool) {
    Objects.requireNonNull(tool, "tool");
    return call -> execute(call, tool);
  }

  /** Held calls: list, approve (optionally with edited arguments), deny. Thread-safe. */
  public Approvals approvals() {
    return approvals;
  }

  /**
   * The final decision for a held call after its approval step, for hosts that run tools
   * themselves and for test harnesses: an approved request is used (once) and its call evaluated
   * again with the final arguments (SPEC §6); a denied or expired one is a denial; a pending one
   * is still a hold. The returned {@link Execution#call()} is the call to run if allowed.
   *
   * @throws ApprovalException for an unknown id, or an approval that was already used
   */
  public Execution resume(String approvalId) {
    ApprovalRecord r = approvals.get(approvalId);
    ApprovalRequest q = r.request();
    ToolCall original = new ToolCall(q.tool(), q.arguments(), q.context());
    switch (r.state()) {
      case PENDING:
        return new Execution(new Decision(Decision.Outcome.HOLD, q.policy(), q.policyVersion(),
            q.rule(), q.message(), null, null, q, null, null), original, null, null,
            q.redactedArguments());
      case APPROVED:
        ApprovalRecord used = approvals.use(approvalId);
        if (used == null) {
          throw new ApprovalException(ApprovalException.Reason.ALREADY_DECIDED,
              "Approval " + approvalId + " was already used");
        }
        Step s = reevaluate(used);
        return new Execution(s.decision, s.call, null, used, s.redacted);
      case USED:
        throw new ApprovalException(ApprovalException.Reason.ALREADY_DECIDED,
            "Approval " + approvalId + " was already used");
      default:
        return new Execution(closedDecision(r), original, null, r, q.redactedArguments());
    }
  }

  /**
   * Runs an approved call through the tool (see {@link #resume}); for a denied, expired or still
   * pending request the tool does not run.
   *
   * @throws Exception what the tool threw; its counters were refunded first
   */
  public Execution runApproved(String approvalId, ToolExecutor tool) throws Exception {
    Execution e = resume(approvalId);
    return invoke(new Step(e.decision(), e.call(), e.approval(), e.redactedArguments()), tool);
  }

  /** Takes back the counters an allowed call charged, when its tool failed. */
  public void refund(Decision decision) {
    engine.refund(decision.receipt());
  }

  /** The tools of {@code tools} that the model may see for this context ({@code hide}). */
  public List<String> visibleTools(List<String> tools, CallContext context) {
    return engine.visibleTools(tools, context);
  }

  /**
   * A counter's current value as a call with this context would see it, e.g.
   * {@code counter("create_refund.daily_total", ctx)}; {@code null} if no policy defines it.
   */
  public BigDecimal counter(String qualifiedName, CallContext context) {
    return engine.counter(qualifiedName, context);
  }

  /** The policy set in force. */
  public PolicySet policies() {
    return engine.policySet();
  }

  /**
   * Replaces the policy set atomically. Counters whose scope, name and window are unchanged carry
   * over. A set that fails validation against this instance's prices is rejected and the current
   * set stays in force.
   *
   * @throws PolicyConfigException when the new set needs a price that is not registered
   */
  public void reload(PolicySet policies) {
    this.engine = newEngine(policies);
  }

  /** The clock this instance reads. */
  public Clock clock() {
    return clock;
  }

  /** One evaluated step of a call: its decision and the call as evaluated. */
  private static final class Step {
    final Decision decision;
    final ToolCall call;
    final ApprovalRecord approval;
    final String redacted;

    Step(Decision decision, ToolCall call, ApprovalRecord approval, String redacted) {
      this.decision = decision;
      this.call = call;
      this.approval = approval;
      this.redacted = redacted;
    }
  }

  private Step decide(ToolCall call, boolean useApproved) {
    long start = clock.monotonicNanos();
    Engine engine = this.engine;
    Engine.Result result = evaluateSafely(engine, call, null);
    Decision d = result.decision();
    boolean newHold = false;
    if (d.isHeld() && d.approval() != null) {
      try {
        ApprovalRequest q = d.approval();
        ApprovalRecord open = approvals.store().findOpen(q.callKey());
        if (open != null && open.state() == ApprovalRecord.State.APPROVED && useApproved) {
          ApprovalRecord used = approvals.use(open.id());
          if (used != null) {
            return reevaluate(used);
          }
          open = null;
        }
        if (open != null) {
          d = d.withApproval(open.request());
        } else {
          approvals.hold(q);
          newHold = true;
        }
      } catch (RuntimeException e) {
        LOG.error("Approval store failed for tool {}; the call is denied", call.tool(), e);
        result = failed(call, "Approval store unavailable: " + e.getMessage());
        d = result.decision();
      }
    }
    d = audited(call, result, d, clock.monotonicNanos() - start, null);
    if (newHold && d.isHeld()) {
      try {
        onPause.onPause(d.approval());
      } catch (RuntimeException e) {
        LOG.warn("onPause callback failed for {}; the hold stands", d.approval().id(), e);
      }
    }
    return new Step(d, call, null, render(result));
  }

  /** Evaluates an approved call again with its final arguments (SPEC §6). */
  private Step reevaluate(ApprovalRecord used) {
    long start = clock.monotonicNanos();
    ApprovalRequest q = used.request();
    ToolCall call = new ToolCall(q.tool(), used.finalArguments(), q.context());
    Engine.Result result = evaluateSafely(engine, call,
        new Engine.Grant(q.policy(), q.tool(), q.rule()));
    Decision d = result.decision();
    boolean newHold = false;
    if (d.isHeld() && d.approval() != null) {
      try {
        approvals.hold(d.approval());
        newHold = true;
      } catch (RuntimeException e) {
        result = failed(call, "Approval store unavailable: " + e.getMessage());
        d = result.decision();
      }
    } else {
      d = d.withApproval(q);
    }
    d = audited(call, result, d, clock.monotonicNanos() - start, used.approver());
    if (newHold && d.isHeld()) {
      try {
        onPause.onPause(d.approval());
      } catch (RuntimeException e) {
        LOG.warn("onPause callback failed for {}; the hold stands", d.approval().id(), e);
      }
    }
    return new Step(d, call, used, render(result));
  }

  private Step await(ApprovalRequest q) {
    ApprovalRecord r;
    try {
      r = approvals.whenDecided(q.id()).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Step(Decision.deny(q.policy(), q.policyVersion(), q.rule(),
          "Interrupted while waiting for approval " + q.id()), originalCall(q), null,
          q.redactedArguments());
    } catch (ExecutionException | RuntimeException e) {
      return new Step(Decision.deny(q.policy(), q.policyVersion(), q.rule(),
          "Approval store unavailable: " + e), originalCall(q), null, q.redactedArguments());
    }
    if (r.state() == ApprovalRecord.State.APPROVED) {
      ApprovalRecord used = approvals.use(r.id());
      if (used == null) {
        return new Step(Decision.deny(q.policy(), q.policyVersion(), q.rule(),
            "Approval " + q.id() + " was already used by another call"), originalCall(q), r,
            q.redactedArguments());
      }
      return reevaluate(used);
    }
    return new Step(closedDecision(r), originalCall(q), r, q.redactedArguments());
  }

  private static ToolCall originalCall(ApprovalRequest q) {
    return new ToolCall(q.tool(), q.arguments(), q.context());
  }

  private static Decision closedDecision(ApprovalRecord r) {
    ApprovalRequest q = r.request();
    String message;
    if (r.state() == ApprovalRecord.State.DENIED) {
      message = "Denied by approver " + r.approver()
          + (r.reason() == null || r.reason().isBlank() ? "" : ": " + r.reason());
    } else if (r.state() == ApprovalRecord.State.EXPIRED) {
      message = "Approval " + q.id() + " expired without a decision";
    } else {
      message = "Approval " + q.id() + " was already used";
    }
    return new Decision(Decision.Outcome.DENY, q.policy(), q.policyVersion(), q.rule(), message,
        null, null, q, null, null);
  }

  private Execution invoke(Step step, ToolExecutor tool) throws Exception {
    Decision d = step.decision;
    if (!d.isAllowed()) {
      return new Execution(d, step.call, null, step.approval, step.redacted);
    }
    long start = clock.monotonicNanos();
    String out;
    try {
      out = tool.execute(step.call);
    } catch (Exception | Error e) {
      refundQuietly(d);
      outcomeEvent(step.call, d, AuditEvent.Type.FAILED, String.valueOf(e),
          clock.monotonicNanos() - start);
      throw e;
    }
    outcomeEvent(step.call, d, AuditEvent.Type.EXECUTED, null, clock.monotonicNanos() - start);
    return new Execution(d, step.call, out == null ? "" : out, step.approval, step.redacted);
  }

  private Engine.Result evaluateSafely(Engine engine, ToolCall call, Engine.Grant grant) {
    try {
      return engine.evaluate(call, grant);
    } catch (StateStoreException e) {
      if (stateFailure == StateFailure.FAIL_OPEN_NON_FINANCIAL
          && !engine.usesFinancialState(call)) {
        try {
          Engine.Result open = engine.evaluateWithoutState(call, grant);
          Decision d = open.decision();
          if (d.isAllowed()) {
            LOG.warn("State store unavailable for tool {}; allowed WITHOUT counters (fail-open"
                + " for non-financial counters is configured): {}", call.tool(), e.getMessage());
            d = new Decision(d.outcome(), d.policy(), d.policyVersion(), d.rule(),
                FAIL_OPEN_MESSAGE + e.getMessage(), d.shadow(), null, null, null, d.trace());
          }
          return new Engine.Result(d, open.arguments(), open.redacted());
        } catch (RuntimeException again) {
          return failed(call, "State store unavailable: " + e.getMessage());
        }
      }
      return failed(call, "State store unavailable: " + e.getMessage());
    } catch (RuntimeException | StackOverflowError e) {
      LOG.error("SafeRun evaluation failed for tool {}; the call is denied", call.tool(), e);
      return failed(call, "Policy evaluation failed: " + e);
    }
  }

  /** Audits a decision; under FAIL_CLOSED an audit failure turns it into a denial. */
  private Decision audited(ToolCall call, Engine.Result r, Decision d, long nanos,
      String approver) {
    try {
      if (audit.enabled()) {
        audit.record(decisionEvent(call, r, d, nanos, approver));
      }
      return d;
    } catch (Exception | LinkageError e) {
      if (auditFailure == AuditSink.FailurePolicy.FAIL_CLOSED) {
        refundQuietly(d);
        LOG.error("Audit failed for tool {}; the call is denied (fail closed)", call.tool(), e);
        return Decision.deny(d.policy(), d.policyVersion(), d.rule(), "Audit failed: " + e);
      }
      LOG.warn("Audit failed for tool {}; continuing as configured", call.tool(), e);
      return d;
    }
  }

  private static String render(Engine.Result r) {
    return r.redacted() == null ? null : Canonical.write(r.redacted());
  }

  private void approvalEvent(ApprovalRecord r, AuditEvent.Type type, String message) {
    if (!audit.enabled()) {
      return;
    }
    ApprovalRequest q = r.request();
    try {
      audit.record(new AuditEvent(Instant.ofEpochMilli(clock.wallMillis()),
          sequence.incrementAndGet(), type, q.tool(), q.context(), q.redactedArguments(),
          q.argumentsHash(), q.policy(), q.policyVersion(), q.rule(), message, null, 0, q.id(),
          r.approver(), 0, null));
    } catch (Exception | LinkageError e) {
      // The transition already happened; a lost record must be loud.
      LOG.error("Audit of approval {} ({}) failed", q.id(), type, e);
    }
  }

  private Engine newEngine(PolicySet set) {
    Objects.requireNonNull(set, "policies");
    checkPrices(set, prices);
    return new Engine(set, store, clock, prices, arguments, trace);
  }

  private static void checkPrices(PolicySet set, Map<String, BigDecimal> prices) {
    List<Problem> problems = new ArrayList<>();
    for (Policy p : set.policies()) {
      p.tools().forEach((tool, rules) -> {
        for (Rule r : rules) {
          if (r.spend() != null && r.spend().amountFrom() == null && !prices.containsKey(tool)) {
            problems.add(new Problem(p.source(), r.location() == null ? 0 : r.location().line(),
                r.location() == null ? 0 : r.location().column(), "tools." + tool,
                "spend rule '" + r.name() + "' has no amount_from and no price is registered for"
                    + " tool '" + tool + "' (SafeRun.builder().price(\"" + tool + "\", …))",
                false));
          }
        }
      });
    }
    if (!problems.isEmpty()) {
      throw new PolicyConfigException(problems);
    }
  }

  private Engine.Result failed(ToolCall call, String message) {
    return new Engine.Result(Decision.deny(null, null, null, message), null, null);
  }

  private void refundQuietly(Decision d) {
    try {
      engine.refund(d.receipt());
    } catch (RuntimeException e) {
      LOG.error("Refund failed for {} counters", d.receipt().entries().size(), e);
    }
  }

  private AuditEvent decisionEvent(ToolCall call, Engine.Result r, Decision d, long nanos,
      String approver) {
    AuditEvent.Type type = d.outcome() == Outcome.ALLOW ? AuditEvent.Type.ALLOWED
        : d.outcome() == Outcome.DENY ? AuditEvent.Type.DENIED : AuditEvent.Type.HELD;
    String args;
    String hash = null;
    if (r.redacted() != null) {
      args = Canonical.write(r.redacted());
      hash = Canonical.sha256(r.arguments());
    } else {
      int n = call.arguments() == null ? 0 : call.arguments().length();
      args = n == 0 ? "{}" : "<unparsed, " + n + " characters>";
    }
    return new AuditEvent(Instant.ofEpochMilli(clock.wallMillis()), sequence.incrementAndGet(),
        type, call.tool(), call.context(), args, hash, d.policy(), d.policyVersion(), d.rule(),
        d.message(), d.shadow(), nanos, d.approval() == null ? null : d.approval().id(), approver,
        0, cost(d));
  }

  /** The amount a call charged to spend counters, or null. */
  private static BigDecimal cost(Decision d) {
    BigDecimal total = null;
    for (dev.saferun.spi.ChargeReceipt.Entry e : d.receipt().entries()) {
      if (!e.key().shadow() && e.key().name().endsWith("._spend_day")) {
        total = total == null ? e.amount() : total.add(e.amount());
      }
    }
    return total;
  }

  private void outcomeEvent(ToolCall call, Decision d, AuditEvent.Type type, String message,
      long toolNanos) {
    try {
      if (!audit.enabled()) {
        return;
      }
      audit.record(new AuditEvent(Instant.ofEpochMilli(clock.wallMillis()),
          sequence.incrementAndGet(), type, call.tool(), call.context(), null, null, d.policy(),
          d.policyVersion(), d.rule(), message, d.shadow(), 0,
          d.approval() == null ? null : d.approval().id(), null, toolNanos, cost(d)));
    } catch (Exception | LinkageError e) {
      LOG.warn("Audit of the {} outcome of tool {} failed", type, call.tool(), e);
    }
  }

  /** What a call does when the state store cannot answer. */
  public enum StateFailure {
    /** Deny the call ({@code State store unavailable: …}). The default. */
    FAIL_CLOSED,
    /**
     * Allow a call whose applicable rules involve no money and read no counter (rate limits,
     * plain counts and loop breakers only), evaluating its other rules as usual but without
     * counters, and audit it with {@link #FAIL_OPEN_MESSAGE}. Calls with {@code spend},
     * {@code increment_from} or {@code state.} conditions are still denied.
     */
    FAIL_OPEN_NON_FINANCIAL
  }

  /**
   * Configures a {@link SafeRun}. Not thread-safe; build once and share the result.
   */
  public static final class Builder {
    private PolicySet policies;
    private Clock clock = Clock.system();
    private StateStore store;
    private ApprovalStore approvalStore;
    private final Map<String, BigDecimal> prices = new LinkedHashMap<>();
    private AuditSink audit = AuditSink.slf4j();
    private AuditSink.FailurePolicy auditFailure = AuditSink.FailurePolicy.FAIL_CLOSED;
    private OnPause onPause = OnPause.NONE;
    private int maxArgumentChars = 256 * 1024;
    private int maxArgumentDepth = 32;
    private boolean trace;
    private StateFailure stateFailure = StateFailure.FAIL_CLOSED;

    private Builder() {}

    /**
     * What a call does when the state store is unavailable. Default {@link
     * StateFailure#FAIL_CLOSED}: it is denied with {@code State store unavailable: …}.
     */
    public Builder stateFailure(StateFailure policy) {
      this.stateFailure = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** The policy set to enforce. Required. */
    public Builder policies(PolicySet policies) {
      this.policies = Objects.requireNonNull(policies, "policies");
      return this;
    }

    /** Shorthand for {@code policies(PolicySet.of(policies))}. */
    public Builder policies(Policy... policies) {
      return policies(PolicySet.of(policies));
    }

    /** The clock for windows, expiry and latency. Default {@link Clock#system()}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Where counters live. Default: in memory, on this builder's clock. */
    public Builder stateStore(StateStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** Where approval requests live. Default: in memory. */
    public Builder approvalStore(ApprovalStore store) {
      this.approvalStore = Objects.requireNonNull(store, "store");
      return this;
    }

    /** Registers a tool's price, for {@code spend} rules without {@code amount_from}. */
    public Builder price(String tool, BigDecimal price) {
      Objects.requireNonNull(tool, "tool");
      Objects.requireNonNull(price, "price");
      if (price.signum() < 0) {
        throw new IllegalArgumentException("price of '" + tool + "' must be >= 0, got " + price);
      }
      prices.put(tool, price);
      return this;
    }

    /** Registers tool prices. */
    public Builder prices(Map<String, BigDecimal> prices) {
      prices.forEach(this::price);
      return this;
    }

    /** Where audit events go. Default {@link AuditSink#slf4j()}. */
    public Builder auditSink(AuditSink sink) {
      this.audit = Objects.requireNonNull(sink, "sink");
      return this;
    }

    /** What a failing audit sink does. Default {@link AuditSink.FailurePolicy#FAIL_CLOSED}. */
    public Builder auditFailure(AuditSink.FailurePolicy policy) {
      this.auditFailure = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** The callback for held calls. Default: none. */
    public Builder onPause(OnPause onPause) {
      this.onPause = Objects.requireNonNull(onPause, "onPause");
      return this;
    }

    /**
     * Limits on tool arguments; larger or deeper arguments are denied with a reason. Defaults:
     * 262,144 characters and 32 levels.
     */
    public Builder argumentLimits(int maxChars, int maxDepth) {
      if (maxChars <= 0 || maxDepth <= 0) {
        throw new IllegalArgumentException("argument limits must be positive, got maxChars="
            + maxChars + " maxDepth=" + maxDepth);
      }
      this.maxArgumentChars = maxChars;
      this.maxArgumentDepth = maxDepth;
      return this;
    }

    /** Records a per-rule trace in every decision (for tests and debugging; costs allocation). */
    public Builder trace(boolean trace) {
      this.trace = trace;
      return this;
    }

    /**
     * Builds the instance.
     *
     * @throws IllegalStateException when no policies were given
     * @throws PolicyConfigException when a spend rule needs a price that is not registered
     */
    public SafeRun build() {
      if (policies == null) {
        throw new IllegalStateException("SafeRun.builder() needs policies(...)");
      }
      return new SafeRun(this);
    }
  }
}
