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
import dev.saferun.internal.audit.FailureThrottle;
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
import org.slf4j.helpers.MessageFormatter;

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
  /** One stack trace, then at most one line a second, for all audit failures of this instance. */
  private final FailureThrottle auditFailureLog;
  private final OnPause onPause;
  private final ApprovalsImpl approvals;
  private final AtomicLong sequence = new AtomicLong();
  private final StateFailure stateFailure;
  private final dev.saferun.internal.controls.SchemaRegistry schemas =
      new dev.saferun.internal.controls.SchemaRegistry();
  private final dev.saferun.internal.controls.Breakers breakers;
  private final dev.saferun.internal.controls.SecretMasker masker =
      new dev.saferun.internal.controls.SecretMasker();
  private final dev.saferun.spi.SecretResolver secretResolver;
  private final KillSwitch killSwitch;
  private final java.util.Map<String, com.google.re2j.Pattern> resultPatterns =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** Message of an allow decided without counters (audited as such). */
  public static final String FAIL_OPEN_MESSAGE =
      "Allowed without counters (fail-open for non-financial counters): state store unavailable: ";
  /** Holds chained by later approval rules; beyond this a call is denied. */
  private static final int MAX_CHAINED_HOLDS = 5;

  private final java.nio.file.Path killSwitchFile;
  private final dev.saferun.internal.controls.FileWatcher killSwitchWatcher;

  private SafeRun(Builder b) {
    this.clock = b.clock;
    this.store = b.store != null ? b.store : StateStore.inMemory(b.clock);
    this.prices = Map.copyOf(b.prices);
    this.arguments = new Arguments(b.maxArgumentChars, b.maxArgumentDepth);
    this.trace = b.trace;
    this.audit = b.audit;
    this.auditFailure = b.auditFailure;
    this.auditFailureLog = new FailureThrottle(clock, 1000);
    this.onPause = b.onPause;
    this.stateFailure = b.stateFailure;
    this.breakers = new dev.saferun.internal.controls.Breakers((tool, open, message) ->
        systemEvent(open ? AuditEvent.Type.BREAKER_OPENED : AuditEvent.Type.BREAKER_CLOSED, tool,
            message, null));
    this.secretResolver = b.secretResolver;
    for (String name : b.maskedSecretNames) {
      String v = b.secretResolver == null ? null : b.secretResolver.resolve(name);
      if (v == null) {
        throw new IllegalStateException("secret '" + name + "' to mask is not known to the"
            + " secret resolver");
      }
      masker.add(v);
    }
    b.schemas.forEach(schemas::register);
    this.approvals = new ApprovalsImpl(
        b.approvalStore != null ? b.approvalStore : ApprovalStore.inMemory(), clock, arguments,
        this::approvalEvent);
    this.engine = newEngine(b.policies);
    this.killSwitchFile = b.killSwitchFile;
    this.killSwitch = new KillSwitch(clock, this::killSwitchChanged);
    if (b.killSwitchFile != null) {
      KillSwitch.State initial = dev.saferun.internal.controls.KillSwitchFile.read(b.killSwitchFile);
      if (initial.engaged()) {
        killSwitch.set(initial);
      }
      try {
        this.killSwitchWatcher = new dev.saferun.internal.controls.FileWatcher(
            java.util.Set.of(b.killSwitchFile), clock, java.time.Duration.ofMillis(50),
            this::killSwitchFileChanged, "saferun-killswitch-watch");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot watch " + b.killSwitchFile, e);
      }
    } else {
      this.killSwitchWatcher = null;
    }
  }

  private void killSwitchChanged(KillSwitch.State st) {
    if (killSwitchFile != null
        && !st.equals(dev.saferun.internal.controls.KillSwitchFile.read(killSwitchFile))) {
      dev.saferun.internal.controls.KillSwitchFile.write(killSwitchFile, st);
    }
    systemEvent(st.engaged()
            ? AuditEvent.Type.KILL_SWITCH_ENGAGED : AuditEvent.Type.KILL_SWITCH_RELEASED, "*",
        st.engaged() ? "Kill switch engaged" + (st.tools().isEmpty() && st.agents().isEmpty()
            ? " for every tool" : " for tools " + st.tools() + " agents " + st.agents())
            + (st.reason() == null || st.reason().isEmpty() ? "" : ": " + st.reason())
            : "Kill switch released", st.by());
  }

  private void killSwitchFileChanged() {
    KillSwitch.State st = dev.saferun.internal.controls.KillSwitchFile.read(killSwitchFile);
    if (!st.equals(killSwitch.state())) {
      LOG.warn("[SAFERUN] kill switch {} from {}", st.engaged() ? "ENGAGED" : "released",
          killSwitchFile);
      killSwitch.set(st);
    }
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
    Objects.requireNonNull(tool, "tool");
    return run(call, (c, secrets) -> tool.execute(c));
  }

  /**
   * Like {@link #run(ToolCall, ToolExecutor)} for a tool that needs credentials: it gets
   * {@link Secrets} only if its call is allowed, valid only during the call. Secret values are
   * masked in its result, its error messages and the audit log.
   *
   * @throws Exception what the tool threw (secret values masked from the message)
   */
  public Execution run(ToolCall call, SecretToolExecutor tool) throws Exception {
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
   * Like {@link #run(ToolCall, ToolExecutor)} but returns the text for the model: the tool's result, or the
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

  /** A tool needing credentials, run only for allowed calls (see {@link #run(ToolCall, SecretToolExecutor)}). */
  public ToolExecutor wrap(SecretToolExecutor tool) {
    Objects.requireNonNull(tool, "tool");
    return call -> run(call, tool).text();
  }

  /** The incident-response kill switch. Survives reloads. */
  public KillSwitch killSwitch() {
    return killSwitch;
  }

  /**
   * Registers (or replaces) the JSON schema of a tool's arguments, for {@code schema: strict}.
   * Adapters call this with the schema the framework gives the model.
   *
   * @throws IllegalArgumentException when the schema is not a JSON object
   */
  public void registerSchema(String tool, String jsonSchema) {
    schemas.register(Objects.requireNonNull(tool, "tool"), Objects.requireNonNull(jsonSchema,
        "jsonSchema"));
  }

  /**
   * Reports that an allowed call's tool returned an error result (rather than throwing): its
   * counters are refunded, the tool's error breaker counts a failure, and the failure is audited.
   */
  public void reportToolError(Execution execution, String error) {
    Decision d = execution.decision();
    refundQuietly(d);
    breakers.record(execution.call().tool(), false, clock.wallMillis());
    outcomeEvent(execution.call(), d, AuditEvent.Type.FAILED, masker.mask(error), 0);
  }

  /** Masks every known secret value in a text (for adapters building error messages). */
  public String maskSecrets(String text) {
    return masker.mask(text);
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
    Objects.requireNonNull(tool, "tool");
    Execution e = resume(approvalId);
    return invoke(new Step(e.decision(), e.call(), e.approval(), e.redactedArguments()),
        (c, secrets) -> tool.execute(c));
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

  private Step decide(ToolCall original, boolean useApproved) {
    long start = clock.monotonicNanos();
    Engine engine = this.engine;
    // A secret value in the arguments is masked before anything else sees it: an agent must not
    // pass a credential on (for example into an email body).
    ToolCall call = masker.isEmpty() ? original
        : original.withArguments(masker.mask(original.arguments()));
    String stopped = killSwitch.check(call);
    if (stopped != null) {
      Engine.Result r = failed(call, stopped);
      Decision d = audited(call, r, r.decision(), clock.monotonicNanos() - start, null);
      return new Step(d, call, null, null);
    }
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
    // Only run() shows the rendered arguments; evaluate() (useApproved false) returns the
    // decision alone, so it does not pay for rendering them.
    return new Step(d, call, null, useApproved ? render(result) : null);
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
      r = approvals.awaitDecision(q.id());
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

  private Execution invoke(Step step, SecretToolExecutor tool) throws Exception {
    Decision d = step.decision;
    if (!d.isAllowed()) {
      return new Execution(d, step.call, null, step.approval, step.redacted);
    }
    long start = clock.monotonicNanos();
    CallSecrets secrets = new CallSecrets();
    String out;
    try {
      out = tool.execute(step.call, secrets);
    } catch (Exception | Error e) {
      secrets.close();
      refundQuietly(d);
      breakers.record(step.call.tool(), false, clock.wallMillis());
      String message = masker.mask(String.valueOf(e));
      outcomeEvent(step.call, d, AuditEvent.Type.FAILED, message, clock.monotonicNanos() - start);
      if (e instanceof Exception && !masker.isEmpty() && leaksSecret(e)) {
        throw new SafeRunException("Tool " + step.call.tool() + " failed: "
            + masker.mask(String.valueOf(e.getMessage())) + " (secret values masked)");
      }
      throw e;
    }
    secrets.close();
    breakers.record(step.call.tool(), true, clock.wallMillis());
    String[] note = {null};
    out = controlResult(step.call, out == null ? "" : out, note);
    out = masker.mask(out);
    outcomeEvent(step.call, d, AuditEvent.Type.EXECUTED, note[0], clock.monotonicNanos() - start);
    return new Execution(d, step.call, out, step.approval, step.redacted);
  }

  private boolean leaksSecret(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      if (!masker.mask(m).equals(m)) {
        return true;
      }
    }
    return false;
  }

  /** Applies the tool's result controls (redaction patterns, then the size limit). */
  private String controlResult(ToolCall call, String out, String[] note) {
    dev.saferun.policy.ToolOptions.ResultControls rc = engine.resultControls(call);
    if (rc == null) {
      return out;
    }
    int redactions = 0;
    String result = out;
    for (String p : rc.redactPatterns()) {
      com.google.re2j.Matcher m = resultPatterns.computeIfAbsent(p, com.google.re2j.Pattern::compile)
          .matcher(result);
      StringBuilder sb = new StringBuilder();
      int last = 0;
      while (m.find()) {
        sb.append(result, last, m.start()).append("***");
        last = m.end();
        redactions++;
      }
      if (last > 0) {
        sb.append(result, last, result.length());
        result = sb.toString();
      }
    }
    int before = result.length();
    if (rc.maxChars() != null && result.length() > rc.maxChars()) {
      result = result.substring(0, rc.maxChars()) + "\n[SAFERUN] result truncated: "
          + rc.maxChars() + " of " + before + " characters shown";
    }
    if (redactions > 0 || before != result.length()) {
      note[0] = "Result controls: " + redactions + " redaction(s)"
          + (rc.maxChars() != null && before > rc.maxChars()
              ? ", truncated from " + before + " to " + rc.maxChars() + " characters" : "");
    }
    return result;
  }

  /** The secrets of one allowed call: resolved on demand, masked from then on, closed after. */
  private final class CallSecrets implements Secrets {
    private volatile boolean closed;

    @Override
    public String get(String name) {
      if (closed) {
        throw new SafeRunException("Secrets are only available while the allowed call runs");
      }
      if (secretResolver == null) {
        throw new SafeRunException("No secret resolver is configured"
            + " (SafeRun.builder().secrets(...)); cannot provide '" + name + "'");
      }
      String v = secretResolver.resolve(name);
      if (v == null) {
        throw new SafeRunException("Unknown secret '" + name + "'");
      }
      masker.add(v);
      return v;
    }

    void close() {
      closed = true;
    }
  }

  /** Audits an event that is not about one call (breaker, kill switch, reload). */
  void systemEvent(AuditEvent.Type type, String tool, String message, String by) {
    if (!audit.enabled()) {
      return;
    }
    try {
      audit.record(new AuditEvent(Instant.ofEpochMilli(clock.wallMillis()),
          sequence.incrementAndGet(), type, tool, CallContext.empty(), null, null, null, null,
          null, message, null, 0, null, by, 0, null));
    } catch (Exception | LinkageError e) {
      auditFailed(true, e, "Audit of {} failed: {}", type, message);
    }
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
        auditFailed(true, e, "Audit failed for tool {}; the call is denied (fail closed)",
            call.tool(), null);
        return Decision.deny(d.policy(), d.policyVersion(), d.rule(), "Audit failed: "
            + (e instanceof SafeRunException ? e.getMessage() : e.toString()));
      }
      auditFailed(false, e, "Audit failed for tool {}; continuing as configured", call.tool(),
          null);
      return d;
    }
  }

  /**
   * Logs an audit failure: the first with its stack trace, then at most one line a second (on
   * the injected clock) with the count of failures not logged since. A failing sink fails every
   * call; a stack trace per call would flood the log and slow the callers.
   */
  private void auditFailed(boolean error, Throwable e, String format, Object a, Object b) {
    FailureThrottle.Line line = auditFailureLog.next();
    if (line == null) {
      return;
    }
    String what = MessageFormatter.format(format, a, b).getMessage();
    String before = line.notLogged() == 0 ? ""
        : "; " + line.notLogged() + " more audit failure(s) since the previous line, not logged";
    if (line.stackTrace()) {
      String text = what + before + " (further audit failures are logged at most once a second,"
          + " without a stack trace)";
      if (error) {
        LOG.error(text, e);
      } else {
        LOG.warn(text, e);
      }
    } else if (error) {
      LOG.error("{}: {}{}", what, e, before);
    } else {
      LOG.warn("{}: {}{}", what, e, before);
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
      auditFailed(true, e, "Audit of approval {} ({}) failed", q.id(), type);
    }
  }

  private Engine newEngine(PolicySet set) {
    Objects.requireNonNull(set, "policies");
    checkPrices(set, prices);
    return new Engine(set, store, clock, prices, arguments, trace, schemas, breakers);
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
      // canonical text has no whitespace: the raw JSON's length bounds it (near enough)
      args = Canonical.write(r.redacted(),
          call.arguments() == null ? 64 : call.arguments().length() + 16);
      // Nothing redacted (the same tree): hash the text just written instead of writing it again.
      hash = Canonical.sha256(r.redacted() == r.arguments() ? args : Canonical.write(r.arguments()));
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
      auditFailed(false, e, "Audit of the {} outcome of tool {} failed", type, call.tool());
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
    private dev.saferun.spi.SecretResolver secretResolver;
    private final List<String> maskedSecretNames = new ArrayList<>();
    private final Map<String, String> schemas = new LinkedHashMap<>();
    private java.nio.file.Path killSwitchFile;

    private Builder() {}

    /**
     * Keeps the kill switch's state in a JSON file: read at start, written on every change, and
     * watched, so the CLI ({@code saferun kill-switch}) or another process sharing the file can
     * engage or release it.
     */
    public Builder killSwitchFile(java.nio.file.Path file) {
      this.killSwitchFile = Objects.requireNonNull(file, "file");
      return this;
    }

    /** Where tools' credentials come from ({@link Secrets}). Default: none. */
    public Builder secrets(dev.saferun.spi.SecretResolver resolver) {
      this.secretResolver = Objects.requireNonNull(resolver, "resolver");
      return this;
    }

    /**
     * Secrets to mask from the start, even before a tool asks for them (e.g. keys the process
     * holds anyway). Resolved at build; an unknown name fails the build.
     */
    public Builder maskSecrets(String... names) {
      maskedSecretNames.addAll(List.of(names));
      return this;
    }

    /** Registers a tool's argument JSON schema, for {@code schema: strict}. */
    public Builder toolSchema(String tool, String jsonSchema) {
      schemas.put(Objects.requireNonNull(tool, "tool"), Objects.requireNonNull(jsonSchema,
          "jsonSchema"));
      return this;
    }

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
