package dev.saferun;

import dev.saferun.Decision.Outcome;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.approval.OnPause;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import dev.saferun.internal.engine.Engine;
import dev.saferun.internal.json.Arguments;
import dev.saferun.internal.json.Canonical;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicySet;
import dev.saferun.policy.Rule;
import dev.saferun.spi.StateStore;
import dev.saferun.spi.StateStoreException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
  private final AtomicLong sequence = new AtomicLong();

  private SafeRun(Builder b) {
    this.clock = b.clock;
    this.store = b.store != null ? b.store : StateStore.inMemory(b.clock);
    this.prices = Map.copyOf(b.prices);
    this.arguments = new Arguments(b.maxArgumentChars, b.maxArgumentDepth);
    this.trace = b.trace;
    this.audit = b.audit;
    this.auditFailure = b.auditFailure;
    this.onPause = b.onPause;
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
   * for a hold, hands the approval request to the {@link OnPause} callback. Never throws for a
   * problem inside SafeRun: such a problem denies the call (fail closed).
   *
   * <p>If the caller then runs the tool and it fails, call {@link #refund(Decision)}.
   */
  public Decision evaluate(ToolCall call) {
    Objects.requireNonNull(call, "call");
    long start = clock.monotonicNanos();
    Engine.Result result;
    try {
      result = engine.evaluate(call);
    } catch (StateStoreException e) {
      result = failed(call, "State store unavailable: " + e.getMessage());
    } catch (RuntimeException | StackOverflowError e) {
      LOG.error("SafeRun evaluation failed for tool {}; the call is denied", call.tool(), e);
      result = failed(call, "Policy evaluation failed: " + e);
    }
    Decision d = result.decision();
    long nanos = clock.monotonicNanos() - start;
    try {
      if (audit.enabled()) {
        audit.record(decisionEvent(call, result, nanos));
      }
    } catch (Exception | LinkageError e) {
      if (auditFailure == AuditSink.FailurePolicy.FAIL_CLOSED) {
        refundQuietly(d);
        LOG.error("Audit failed for tool {}; the call is denied (fail closed)", call.tool(), e);
        return Decision.deny(d.policy(), d.policyVersion(), d.rule(), "Audit failed: " + e);
      }
      LOG.warn("Audit failed for tool {}; continuing as configured", call.tool(), e);
    }
    if (d.isHeld() && d.approval() != null) {
      try {
        onPause.onPause(d.approval());
      } catch (RuntimeException e) {
        LOG.warn("onPause callback failed for {}; the hold stands", d.approval().id(), e);
      }
    }
    return d;
  }

  /**
   * Evaluates a call and, if allowed, runs the tool. Returns the tool's result, or for a denied
   * or held call the text the model should see ({@link Decision#toModelText()}).
   *
   * @throws Exception what the tool threw; its counters were refunded first
   */
  public String execute(ToolCall call, ToolExecutor tool) throws Exception {
    Decision d = evaluate(call);
    if (!d.isAllowed()) {
      return d.toModelText();
    }
    long start = clock.monotonicNanos();
    String out;
    try {
      out = tool.execute(call);
    } catch (Exception | Error e) {
      refundQuietly(d);
      outcomeEvent(call, d, AuditEvent.Type.FAILED, String.valueOf(e),
          clock.monotonicNanos() - start);
      throw e;
    }
    outcomeEvent(call, d, AuditEvent.Type.EXECUTED, null, clock.monotonicNanos() - start);
    return out;
  }

  /** A tool that runs only the calls this SafeRun allows (see {@link #execute}). */
  public ToolExecutor wrap(ToolExecutor tool) {
    Objects.requireNonNull(tool, "tool");
    return call -> execute(call, tool);
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

  private AuditEvent decisionEvent(ToolCall call, Engine.Result r, long nanos) {
    Decision d = r.decision();
    AuditEvent.Type type = d.outcome() == Outcome.ALLOW ? AuditEvent.Type.ALLOWED
        : d.outcome() == Outcome.DENY ? AuditEvent.Type.DENIED : AuditEvent.Type.HELD;
    String args;
    String hash = null;
    if (r.redacted() != null) {
      args = Canonical.write(r.redacted());
      hash = d.approval() != null ? d.approval().argumentsHash() : null;
    } else {
      int n = call.arguments() == null ? 0 : call.arguments().length();
      args = n == 0 ? "{}" : "<unparsed, " + n + " characters>";
    }
    return new AuditEvent(Instant.ofEpochMilli(clock.wallMillis()), sequence.incrementAndGet(),
        type, call.tool(), call.context(), args, hash, d.policy(), d.policyVersion(), d.rule(),
        d.message(), d.shadow(), nanos, d.approval() == null ? null : d.approval().id(), null, 0);
  }

  private void outcomeEvent(ToolCall call, Decision d, AuditEvent.Type type, String message,
      long toolNanos) {
    try {
      if (!audit.enabled()) {
        return;
      }
      audit.record(new AuditEvent(Instant.ofEpochMilli(clock.wallMillis()),
          sequence.incrementAndGet(), type, call.tool(), call.context(), null, null, d.policy(),
          d.policyVersion(), d.rule(), message, d.shadow(), 0, null, null, toolNanos));
    } catch (Exception | LinkageError e) {
      LOG.warn("Audit of the {} outcome of tool {} failed", type, call.tool(), e);
    }
  }

  /**
   * Configures a {@link SafeRun}. Not thread-safe; build once and share the result.
   */
  public static final class Builder {
    private PolicySet policies;
    private Clock clock = Clock.system();
    private StateStore store;
    private final Map<String, BigDecimal> prices = new LinkedHashMap<>();
    private AuditSink audit = AuditSink.slf4j();
    private AuditSink.FailurePolicy auditFailure = AuditSink.FailurePolicy.FAIL_CLOSED;
    private OnPause onPause = OnPause.NONE;
    private int maxArgumentChars = 256 * 1024;
    private int maxArgumentDepth = 32;
    private boolean trace;

    private Builder() {}

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
