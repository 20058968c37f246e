package dev.saferun.test;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.Execution;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.approval.ApprovalRecord;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.policy.Rule;
import dev.saferun.spi.StateStore;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Unit-tests a policy in Java: makes calls against a policy set on a {@link FakeClock} and
 * returns AssertJ assertions on each decision.
 *
 * <pre>{@code
 * PolicyTester tester = PolicyTester.load(Path.of("src/test/policies/refunds.yaml"))
 *     .context(CallContext.of("agent", "support", "user", "u1"));
 *
 * tester.call("create_refund", "{\"amount\": 60000}").isDenied().byRule("hard limit");
 * Decision held = tester.call("create_refund", "{\"amount\": 20000}").isHeld().decision();
 * tester.approve(held, "alice").isAllowed();
 * assertThat(tester.counter("create_refund.daily_total")).isEqualByComparingTo("20000");
 * tester.clock().advance(Duration.ofDays(1));               // a new day: the counter resets
 * }</pre>
 *
 * <p>Behind it is one ordinary {@link SafeRun} ({@link #safeRun()}), built on the first call with
 * the tester's clock (a fresh {@code FakeClock} at {@link FakeClock#DEFAULT_START} unless
 * {@link #clock(FakeClock)} is given), registered prices, in-memory counters (or
 * {@link #stateStore}), rule tracing on, and a {@link RecordingAuditSink} ({@link #audit()}). So
 * the tester decides exactly as production does, and calls share counters and clock in the order
 * the test makes them.
 *
 * <p>Configuration ({@link #clock(FakeClock)}, {@link #price}, {@link #stateStore},
 * {@link #auditSink}) must come before the first call; afterwards it throws
 * {@link IllegalStateException}, since the SafeRun is already built. These methods change this
 * tester and return it. {@link #context} may be changed at any time: it is the default context of
 * later calls.
 *
 * <p>Thread-safe once configured: calls, counters and approvals may be made from many threads
 * (SafeRun is thread-safe); the {@link DecisionAssert} each call returns belongs to its thread.
 */
public final class PolicyTester {
  /** The approver named by approval helpers when a test does not name one. */
  public static final String DEFAULT_APPROVER = "test";

  private final PolicySet policies;
  private final RecordingAuditSink audit = new RecordingAuditSink();
  private final Map<String, BigDecimal> prices = new LinkedHashMap<>();
  private FakeClock clock = new FakeClock();
  private StateStore store;
  private AuditSink extraSink;
  private volatile CallContext context = CallContext.empty();
  private SafeRun safeRun;

  private PolicyTester(PolicySet policies) {
    this.policies = Objects.requireNonNull(policies, "policies");
  }

  /** A tester for an ordered policy set. */
  public static PolicyTester of(PolicySet policies) {
    return new PolicyTester(policies);
  }

  /** A tester for policies evaluated together, in this order. */
  public static PolicyTester of(Policy... policies) {
    return new PolicyTester(PolicySet.of(policies));
  }

  /**
   * A tester for one policy written as YAML text (a whole policy file). Its name is
   * {@code policy} unless the YAML sets {@code name:}.
   *
   * @throws dev.saferun.PolicyConfigException listing every problem in the text
   */
  public static PolicyTester fromYaml(String yaml) {
    return of(PolicyLoader.loadString(yaml, "policy.yaml"));
  }

  /**
   * A tester for policy files, evaluated together in this order.
   *
   * @throws dev.saferun.PolicyConfigException for the first file that does not load
   */
  public static PolicyTester load(Path... files) {
    return new PolicyTester(PolicySet.load(files));
  }

  // ------------------------------------------------------------------ configuration

  /** Uses {@code clock} (for example one set to a given instant). Before the first call only. */
  public synchronized PolicyTester clock(FakeClock clock) {
    requireNotBuilt("clock");
    this.clock = Objects.requireNonNull(clock, "clock");
    return this;
  }

  /** Registers a tool's price for {@code spend} rules without {@code amount_from}. */
  public synchronized PolicyTester price(String tool, BigDecimal price) {
    requireNotBuilt("price");
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(price, "price");
    prices.put(tool, price);
    return this;
  }

  /** Registers a tool's price written as an exact decimal, e.g. {@code price("image", "0.04")}. */
  public PolicyTester price(String tool, String price) {
    return price(tool, new BigDecimal(Objects.requireNonNull(price, "price")));
  }

  /**
   * Keeps counters in {@code store} instead of in memory (for example to run a policy's tests
   * against a Redis store). Before the first call only.
   */
  public synchronized PolicyTester stateStore(StateStore store) {
    requireNotBuilt("stateStore");
    this.store = Objects.requireNonNull(store, "store");
    return this;
  }

  /**
   * Sends audit events to {@code sink} as well as to {@link #audit()}. Before the first call
   * only.
   */
  public synchronized PolicyTester auditSink(AuditSink sink) {
    requireNotBuilt("auditSink");
    this.extraSink = Objects.requireNonNull(sink, "sink");
    return this;
  }

  /** The default context of later calls; may be changed between calls. */
  public PolicyTester context(CallContext context) {
    this.context = Objects.requireNonNull(context, "context");
    return this;
  }

  /** {@link #context(CallContext)} from key/value pairs: {@code context("user", "u1")}. */
  public PolicyTester context(String... keysAndValues) {
    return context(CallContext.of(keysAndValues));
  }

  // ------------------------------------------------------------------ calls

  /** Decides a call with no arguments ({@code {}}) in the default context. */
  public DecisionAssert call(String tool) {
    return call(tool, null);
  }

  /**
   * Decides a call in the default context: evaluates it, charges its counters if allowed, audits
   * it and, for a hold, creates the approval request. Nothing runs; the decision is returned for
   * assertions.
   *
   * @param argumentsJson the arguments as JSON text, as a model would send them; {@code null}
   *     for none
   */
  public DecisionAssert call(String tool, String argumentsJson) {
    return call(tool, argumentsJson, CallContext.empty());
  }

  /**
   * Decides a call in the default context with {@code context} merged over it (its attributes
   * win).
   */
  public DecisionAssert call(String tool, String argumentsJson, CallContext context) {
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(context, "context");
    ToolCall call = ToolCall.of(tool, argumentsJson, this.context.merge(context));
    return new DecisionAssert(safeRun().evaluate(call), call, true);
  }

  /** The tools of {@code tools} the model may see in the default context ({@code hide}). */
  public List<String> visibleTools(List<String> tools) {
    return safeRun().visibleTools(List.copyOf(tools), context);
  }

  /**
   * The tools of {@code tools} the model may see for the default context with {@code context}
   * merged over it. In a context that no policy matches, every call is denied, so no tool is
   * visible.
   */
  public List<String> visibleTools(List<String> tools, CallContext context) {
    Objects.requireNonNull(context, "context");
    return safeRun().visibleTools(List.copyOf(tools), this.context.merge(context));
  }

  /** {@link #visibleTools(List)} from names. */
  public List<String> visibleTools(String... tools) {
    return visibleTools(Arrays.asList(tools));
  }

  /**
   * A counter's value as a call in the default context would see it now, e.g.
   * {@code counter("create_refund.daily_total")}; {@code rate_limit: N/minute} on a tool is the
   * counter {@code <tool>._rate_minute}, and counters of {@code "*"} rules are scoped
   * {@code _global}. 0 when never charged.
   *
   * @throws IllegalArgumentException when no policy defines the counter (listing those that do)
   */
  public BigDecimal counter(String qualifiedName) {
    return counter(qualifiedName, CallContext.empty());
  }

  /**
   * A counter's value for the default context with {@code context} merged over it: for a counter
   * with {@code per: [user]}, {@code counter("create_refund.daily_total", CallContext.of("user",
   * "u1"))} is user u1's total.
   *
   * @throws IllegalArgumentException when no policy defines the counter (listing those that do)
   */
  public BigDecimal counter(String qualifiedName, CallContext context) {
    Objects.requireNonNull(qualifiedName, "qualifiedName");
    Objects.requireNonNull(context, "context");
    BigDecimal v = safeRun().counter(qualifiedName, this.context.merge(context));
    if (v == null) {
      throw new IllegalArgumentException("No policy defines counter '" + qualifiedName
          + "'; counters are named <tool or _global>.<counter>, and the policies define "
          + counterNames());
    }
    return v;
  }

  // ------------------------------------------------------------------ approvals

  /**
   * Approves a held call as it is, by {@link #DEFAULT_APPROVER}, and returns the final decision
   * ({@link SafeRun#resume}): the approved call is evaluated again (SPEC §6), so counters and the
   * rules above the approval rule still apply.
   *
   * @throws AssertionError when {@code held} is not a hold
   */
  public DecisionAssert approve(Decision held) {
    return approve(held, DEFAULT_APPROVER);
  }

  /** Approves a held call as it is, by {@code approver}; returns the final decision. */
  public DecisionAssert approve(Decision held, String approver) {
    String id = approvalId(held, "approve");
    safeRun().approvals().approve(id, approver);
    return resume(id);
  }

  /**
   * Approves a held call with edited arguments, by {@code approver}; returns the final decision
   * for the edited call (which is what would run and be charged).
   */
  public DecisionAssert approve(Decision held, String approver, String editedArgumentsJson) {
    String id = approvalId(held, "approve");
    safeRun().approvals().approve(id, approver, editedArgumentsJson);
    return resume(id);
  }

  /** Denies a held call, by {@code approver} with no reason; returns the final decision. */
  public DecisionAssert deny(Decision held, String approver) {
    return deny(held, approver, null);
  }

  /**
   * Denies a held call; returns the final decision, a denial with message
   * {@code Denied by approver <approver>[: <reason>]}.
   */
  public DecisionAssert deny(Decision held, String approver, String reason) {
    String id = approvalId(held, "deny");
    safeRun().approvals().deny(id, approver, reason);
    return resume(id);
  }

  /**
   * Lets a held call's approval request expire: moves the clock to the request's expiry (so the
   * expiry task runs, as it would in production), and returns the final decision, a denial with
   * message {@code Approval <id> expired without a decision}. Moving the clock affects every
   * counter window, as any {@code advance} does.
   */
  public DecisionAssert expire(Decision held) {
    String id = approvalId(held, "expire");
    ApprovalRequest q = held.approval();
    if (clock.instant().isBefore(q.expiresAt())) {
      clock.set(q.expiresAt());
    }
    ApprovalRecord r = safeRun().approvals().get(id);
    if (r.state() != ApprovalRecord.State.EXPIRED) {
      throw new AssertionError("Approval " + id + " did not expire at " + q.expiresAt()
          + ": it is " + r.state());
    }
    return resume(id);
  }

  private DecisionAssert resume(String id) {
    Execution e = safeRun().resume(id);
    return new DecisionAssert(e.decision(), e.call(), true);
  }

  private String approvalId(Decision held, String action) {
    Objects.requireNonNull(held, "held");
    ApprovalRequest q = held.approval();
    ToolCall call = q == null ? null : new ToolCall(q.tool(), q.arguments(), q.context());
    DecisionAssert a = new DecisionAssert(held, call, true);
    a.describedAs("Cannot %s a call that was not held", action);
    return a.approvalId();
  }

  // ------------------------------------------------------------------ access

  /** The clock the SafeRun reads; advance it to move counter windows and approval expiry. */
  public FakeClock clock() {
    return clock;
  }

  /** Moves the clock forward (see {@link FakeClock#advance}); returns this tester. */
  public PolicyTester advance(Duration amount) {
    clock.advance(amount);
    return this;
  }

  /** Every audit event of this tester's SafeRun, in order. */
  public RecordingAuditSink audit() {
    return audit;
  }

  /** The policies under test. */
  public PolicySet policies() {
    return policies;
  }

  /** The SafeRun that decides the calls, built on first use. */
  public synchronized SafeRun safeRun() {
    if (safeRun == null) {
      SafeRun.Builder b = SafeRun.builder()
          .policies(policies)
          .clock(clock)
          .prices(prices)
          .auditSink(extraSink == null ? audit : AuditSink.composite(audit, extraSink))
          .trace(true);
      if (store != null) {
        b.stateStore(store);
      }
      safeRun = b.build();
    }
    return safeRun;
  }

  private void requireNotBuilt(String option) {
    if (safeRun != null) {
      throw new IllegalStateException("PolicyTester." + option + "(…) must be set before the"
          + " first call: the SafeRun is already built");
    }
  }

  private List<String> counterNames() {
    Set<String> names = new LinkedHashSet<>();
    for (Policy p : policies.policies()) {
      p.tools().values().forEach(rules -> addCounters(rules, names));
      addCounters(p.allToolsRules(), names);
    }
    return new ArrayList<>(names);
  }

  private static void addCounters(List<Rule> rules, Set<String> names) {
    for (Rule r : rules) {
      if (r.counter() != null) {
        names.add(r.counter().qualifiedName());
      }
    }
  }

  @Override
  public String toString() {
    return "PolicyTester[" + policies + ", " + clock + "]";
  }
}
