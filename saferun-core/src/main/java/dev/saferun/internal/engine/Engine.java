package dev.saferun.internal.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.saferun.CallContext;
import dev.saferun.Clock;
import dev.saferun.Decision;
import dev.saferun.Decision.Outcome;
import dev.saferun.Decision.RuleResult;
import dev.saferun.Decision.RuleTrace;
import dev.saferun.Decision.ShadowVerdict;
import dev.saferun.ToolCall;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.internal.engine.Compiled.CCond;
import dev.saferun.internal.engine.Compiled.CPolicy;
import dev.saferun.internal.engine.Compiled.CRule;
import dev.saferun.internal.engine.Compiled.CounterTpl;
import dev.saferun.internal.json.ArgPath;
import dev.saferun.internal.json.Arguments;
import dev.saferun.internal.json.Canonical;
import dev.saferun.internal.json.Redactor;
import dev.saferun.policy.Action;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicySet;
import dev.saferun.spi.Charge;
import dev.saferun.spi.ChargeReceipt;
import dev.saferun.spi.ChargeResult;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStore;
import java.math.BigDecimal;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates calls against a compiled policy set (SPEC §5–7). Immutable after construction and
 * thread-safe; per-call state lives in a {@link Run}. Store failures propagate as exceptions:
 * the caller turns every exception into a denial (fail closed).
 */
public final class Engine {
  /** Message for a call that no policy governs. */
  public static final String NO_POLICY = "No policy applies to this call";

  private static final SecureRandom RANDOM = new SecureRandom();

  private final PolicySet set;
  private final CPolicy[] policies;
  /** The policies as a list: what a call matches when no policy has a {@code match} that fails. */
  private final List<CPolicy> allPolicies;
  /** Whether any policy of the set enforces; if none does, the set only observes (SPEC §7). */
  private final boolean anyEnforcing;
  private final StateStore store;
  private final Clock clock;
  private final Map<String, BigDecimal> prices;
  private final Arguments arguments;
  private final boolean trace;
  private final dev.saferun.internal.controls.SchemaRegistry schemas;
  private final dev.saferun.internal.controls.Breakers breakers;

  public Engine(PolicySet set, StateStore store, Clock clock, Map<String, BigDecimal> prices,
      Arguments arguments, boolean trace) {
    this(set, store, clock, prices, arguments, trace,
        new dev.saferun.internal.controls.SchemaRegistry(),
        new dev.saferun.internal.controls.Breakers((t, o, m) -> { }));
  }

  public Engine(PolicySet set, StateStore store, Clock clock, Map<String, BigDecimal> prices,
      Arguments arguments, boolean trace, dev.saferun.internal.controls.SchemaRegistry schemas,
      dev.saferun.internal.controls.Breakers breakers) {
    this.schemas = schemas;
    this.breakers = breakers;
    this.set = set;
    this.store = store;
    this.clock = clock;
    this.prices = Map.copyOf(prices);
    this.arguments = arguments;
    this.trace = trace;
    this.policies = new CPolicy[set.policies().size()];
    boolean enforcing = false;
    for (int i = 0; i < policies.length; i++) {
      policies[i] = new CPolicy(set.policies().get(i));
      enforcing |= !policies[i].shadow;
    }
    this.anyEnforcing = enforcing;
    this.allPolicies = List.of(policies);
  }

  public PolicySet policySet() {
    return set;
  }

  public Arguments arguments() {
    return arguments;
  }

  /**
   * Which approved call is being re-evaluated: in that policy and tool list, the holding rule and
   * the non-counter rules after it count as passed (SPEC §6).
   *
   * @param policy the holding policy's name
   * @param tool the tool
   * @param rule the holding rule's name
   */
  public record Grant(String policy, String tool, String rule) {}

  /**
   * A full evaluation: the decision and what audit and logs need.
   *
   * @param decision the decision
   * @param arguments the parsed arguments, or {@code null} when they were refused
   * @param redacted the arguments with {@code redact:} paths masked (or {@code null})
   */
  public record Result(Decision decision, ObjectNode arguments, JsonNode redacted) {}

  /** Evaluates a call. */
  public Result evaluate(ToolCall call) {
    return evaluate(call, null);
  }

  /** Evaluates a call, with an approval grant when re-evaluating an approved call. */
  public Result evaluate(ToolCall call, Grant grant) {
    return new Run(call, grant, store).execute();
  }

  /**
   * Evaluates as if every counter were empty and charging always succeeded, recording nothing:
   * the explicit fail-open path for calls whose counters are all non-financial (see
   * {@link #usesFinancialState}).
   */
  public Result evaluateWithoutState(ToolCall call, Grant grant) {
    return new Run(call, grant, NoStateStore.INSTANCE).execute();
  }

  /**
   * Whether any rule that could apply to this call involves money or reads a counter: a
   * {@code spend} rule, a counter with {@code increment_from}, or a {@code state.} condition.
   * Such calls never fail open.
   */
  public boolean usesFinancialState(ToolCall call) {
    for (CPolicy p : policies) {
      if (!p.policy.matches(call.context().asMap())) {
        continue;
      }
      CRule[] rules = p.tools.get(call.tool());
      for (CRule[] list : new CRule[][] {rules == null ? new CRule[0] : rules, p.all}) {
        for (CRule r : list) {
          if (r.spend || r.incrementFrom != null) {
            return true;
          }
          for (CCond c : r.conds) {
            if (c.source == Compiled.STATE) {
              return true;
            }
          }
        }
      }
    }
    return false;
  }

  /** A store that remembers nothing: every counter reads 0 and every charge fits. */
  private enum NoStateStore implements StateStore {
    INSTANCE;

    @Override
    public ChargeResult charge(List<Charge> charges, long nowMillis) {
      return ChargeResult.charged(ChargeReceipt.NONE);
    }

    @Override
    public void refund(ChargeReceipt receipt) {
      // nothing was charged
    }

    @Override
    public BigDecimal read(CounterKey key, long nowMillis) {
      return BigDecimal.ZERO;
    }

    @Override
    public long recordAttempt(CounterKey key, long nowMillis) {
      return 0;
    }
  }

  /** The tools of {@code tools} the model may see for this context (SPEC §1 {@code hide}). */
  public List<String> visibleTools(List<String> tools, CallContext ctx) {
    List<CPolicy> enforcing = new ArrayList<>();
    for (CPolicy p : policies) {
      if (!p.shadow && p.policy.matches(ctx.asMap())) {
        enforcing.add(p);
      }
    }
    if (anyEnforcing && enforcing.isEmpty()) {
      return List.of(); // no enforcing policy governs this context: every call is denied
    }
    List<String> out = new ArrayList<>();
    for (String t : tools) {
      boolean hidden = false;
      for (CPolicy p : enforcing) {
        if (p.hides(t)) {
          hidden = true;
          break;
        }
      }
      if (!hidden) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * The result controls for a call: over every matching enforcing policy, the smallest
   * {@code max_chars} and all {@code redact} patterns; {@code null} when none applies.
   */
  public dev.saferun.policy.ToolOptions.ResultControls resultControls(ToolCall call) {
    Integer max = null;
    List<String> patterns = null;
    for (CPolicy p : policies) {
      if (p.shadow || !p.policy.matches(call.context().asMap())) {
        continue;
      }
      dev.saferun.policy.ToolOptions.ResultControls rc = p.options(call.tool()).result();
      if (rc == null) {
        continue;
      }
      if (rc.maxChars() != null) {
        max = max == null ? rc.maxChars() : Math.min(max, rc.maxChars());
      }
      if (!rc.redactPatterns().isEmpty()) {
        if (patterns == null) {
          patterns = new ArrayList<>();
        }
        patterns.addAll(rc.redactPatterns());
      }
    }
    return max == null && patterns == null ? null
        : new dev.saferun.policy.ToolOptions.ResultControls(max,
            patterns == null ? List.of() : patterns);
  }

  /** Whether any matching enforcing policy configures a breaker for this tool. */
  public boolean hasBreaker(ToolCall call) {
    for (CPolicy p : policies) {
      if (!p.shadow && p.policy.matches(call.context().asMap())
          && p.options(call.tool()).breaker() != null) {
        return true;
      }
    }
    return false;
  }

  /**
   * A counter's current value as a call with this context would see it.
   *
   * @param qualifiedName {@code <scope>.<counter>}, e.g. {@code create_refund.daily_total}
   * @return the value, or {@code null} when no policy defines the counter
   */
  public BigDecimal counter(String qualifiedName, CallContext ctx) {
    for (CPolicy p : policies) {
      CounterTpl t = p.counters.get(qualifiedName);
      if (t != null) {
        return store.read(t.key(ctx), clock.wallMillis());
      }
    }
    return null;
  }

  /**
   * The identity of "the same call" for defer mode: tool, canonical arguments and the whole
   * context, so one user's approval never lets another user's identical call through.
   */
  public static String callKey(String tool, String argumentsHash, CallContext ctx) {
    StringBuilder sb = new StringBuilder(tool).append('\n').append(argumentsHash);
    ctx.asMap().entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> sb.append('\n').append(e.getKey()).append('=').append(e.getValue()));
    return Canonical.sha256(sb.toString());
  }

  public void refund(ChargeReceipt receipt) {
    if (!receipt.isEmpty()) {
      store.refund(receipt);
    }
  }

  // ------------------------------------------------------------------ one call

  /** What {@code evaluatePolicy} returns when the policy passes: read only, never written. */
  private static final Verdict[] PASSES = new Verdict[2];

  /** One rule's or step's verdict. */
  private static final class Verdict {
    final Outcome outcome;
    final CPolicy policy;
    final CRule rule;
    final String message;
    final Duration retryAfter;

    Verdict(Outcome outcome, CPolicy policy, CRule rule, String message, Duration retryAfter) {
      this.outcome = outcome;
      this.policy = policy;
      this.rule = rule;
      this.message = message;
      this.retryAfter = retryAfter;
    }
  }

  /** A pending charge and who asked for it. */
  private static final class Pending {
    final Charge charge;
    final CRule rule;

    Pending(Charge charge, CRule rule) {
      this.charge = charge;
      this.rule = rule;
    }
  }

  private final class Run {
    final StateStore store;
    final ToolCall call;
    final String tool;
    final CallContext ctx;
    final Grant grant;
    final long now;
    ObjectNode args;
    List<RuleTrace> traces;
    final List<Pending> enforcedCharges = new ArrayList<>(4);
    final List<Pending> shadowCharges = new ArrayList<>(); // rarely used: no array until then
    /** Loop-breaker attempts recorded by this call, by key: one call is one attempt. */
    Map<String, Long> loopAttempts;
    boolean shadowInvolved;
    String canonicalArgs;
    String argsHash;

    Run(ToolCall call, Grant grant, StateStore store) {
      this.store = store;
      this.call = call;
      this.tool = call.tool();
      this.ctx = call.context();
      this.grant = grant;
      this.now = clock.wallMillis();
      this.traces = trace ? new ArrayList<>() : null;
    }

    Result execute() {
      Map<String, String> attrs = ctx.asMap();
      List<CPolicy> matching = allPolicies; // copied only once some policy does not match
      CPolicy firstEnforcing = null;
      for (int i = 0; i < policies.length; i++) {
        CPolicy p = policies[i];
        if (p.matches(attrs)) {
          if (matching != allPolicies) {
            matching.add(p);
          }
          if (firstEnforcing == null && !p.shadow) {
            firstEnforcing = p;
          }
        } else if (matching == allPolicies) {
          matching = new ArrayList<>(allPolicies.subList(0, i));
        }
      }
      // Shadow policies never decide (SPEC §7): if the set enforces, an enforcing policy must
      // govern the call; a set of only shadow policies allows every call, matched or not.
      if (anyEnforcing && firstEnforcing == null) {
        return new Result(Decision.deny(null, null, null, NO_POLICY), null, null);
      }
      CPolicy named = firstEnforcing != null ? firstEnforcing
          : matching.isEmpty() ? null : matching.get(0);
      Arguments.Parsed parsed = arguments.parse(call.arguments());
      if (parsed.error() != null) {
        return new Result(named == null ? Decision.deny(null, null, null, parsed.error())
            : Decision.deny(named.name, named.version, null, parsed.error()), null, null);
      }
      if (named == null) {
        return new Result(new Decision(Outcome.ALLOW, null, null, null, "Allowed",
            new ShadowVerdict(Outcome.DENY, null, null, NO_POLICY), null, null, null, traces),
            parsed.object(), parsed.object());
      }
      this.args = parsed.object();

      Verdict enforced = null;   // first deny, else first hold, across enforcing policies
      Verdict enforcedHold = null;
      Verdict shadowDeny = null;
      Verdict shadowHold = null;
      for (CPolicy p : matching) {
        Verdict[] v = evaluatePolicy(p);   // [enforced view, shadow-inclusive view]
        if (!p.shadow && v[0] != null) {
          if (v[0].outcome == Outcome.DENY && enforced == null) {
            enforced = v[0];
          } else if (v[0].outcome == Outcome.HOLD && enforcedHold == null) {
            enforcedHold = v[0];
          }
        }
        if (v[1] != null) {
          if (v[1].outcome == Outcome.DENY && shadowDeny == null) {
            shadowDeny = v[1];
          } else if (v[1].outcome == Outcome.HOLD && shadowHold == null) {
            shadowHold = v[1];
          }
        }
      }
      Verdict decided = enforced != null ? enforced : enforcedHold;
      if (decided != null && !enforcedCharges.isEmpty()) {
        // A policy that passed may have a counter over its limit: with its limit read in step 4
        // it would have denied. Any deny beats a hold; among denials the first policy wins.
        List<Pending> others = new ArrayList<>(enforcedCharges.size());
        for (Pending pd : enforcedCharges) {
          if (pd.rule.policy != decided.policy) { // its own were checked in evaluatePolicy
            others.add(pd);
          }
        }
        Verdict counterDeny = others.isEmpty() ? null : firstOverLimit(onePerCounter(others));
        if (counterDeny != null && (decided.outcome == Outcome.HOLD
            || indexOf(counterDeny.policy) < indexOf(decided.policy))) {
          decided = counterDeny;
        }
      }
      Verdict shadowView = shadowDeny != null ? shadowDeny : shadowHold;
      ChargeReceipt receipt = ChargeReceipt.NONE;
      if (decided == null) {
        // Step 5: charge every counter of every enforcing policy at once, or none.
        if (!enforcedCharges.isEmpty()) {
          List<Pending> pending = onePerCounter(enforcedCharges);
          ChargeResult r = store.charge(charges(pending), now);
          if (r.isCharged()) {
            receipt = r.receipt();
          } else {
            Pending refused = pending.get(r.refusedIndex());
            decided = new Verdict(Outcome.DENY, refused.rule.policy, refused.rule,
                refused.rule.limitMessage, retryAfter(refused.rule));
            traceCharge(refused.rule, refused.rule.limitMessage);
          }
        }
        if (decided == null && shadowView == null && !shadowCharges.isEmpty()) {
          List<Pending> pending = onePerCounter(shadowCharges);
          ChargeResult r = store.charge(charges(pending), now);
          if (r.isCharged()) {
            receipt = merge(receipt, r.receipt());
          } else {
            Pending refused = pending.get(r.refusedIndex());
            shadowView = new Verdict(Outcome.DENY, refused.rule.policy, refused.rule,
                refused.rule.limitMessage, retryAfter(refused.rule));
          }
        }
      }
      if (decided != null && shadowView == null) {
        shadowView = decided;
      }
      if (decided != null && decided.outcome == Outcome.DENY && shadowView.outcome == Outcome.HOLD) {
        shadowView = decided; // an enforced deny outranks a shadow hold in the shadow view too
      }
      ShadowVerdict shadow = null;
      if (shadowInvolved) {
        shadow = shadowView == null
            ? new ShadowVerdict(Outcome.ALLOW, named.name, null, "Allowed")
            : new ShadowVerdict(shadowView.outcome, shadowView.policy.name,
                shadowView.rule == null ? null : shadowView.rule.name, shadowView.message);
      }
      JsonNode redacted = redacted(matching);
      Decision d;
      if (decided == null) {
        d = new Decision(Outcome.ALLOW, named.name, named.version, null, "Allowed", shadow, null,
            null, receipt, traces);
      } else {
        d = new Decision(decided.outcome, decided.policy.name, decided.policy.version,
            decided.rule == null ? null : decided.rule.name, decided.message, shadow,
            decided.retryAfter, null, null, traces);
        if (decided.outcome == Outcome.HOLD) {
          d = d.withApproval(approval(decided, redacted));
        }
      }
      return new Result(d, args, redacted);
    }

    private ChargeReceipt merge(ChargeReceipt a, ChargeReceipt b) {
      if (a.isEmpty()) {
        return b;
      }
      List<ChargeReceipt.Entry> all = new ArrayList<>(a.entries());
      all.addAll(b.entries());
      return new ChargeReceipt(all);
    }

    /**
     * One charge per counter key. Policies of a set that define the same counter
     * ({@code <scope>.<counter>}, window, per) share it, and one allowed call charges it once:
     * with the largest amount asked for and the strictest limit (whose rule names a refusal).
     */
    private List<Pending> onePerCounter(List<Pending> pending) {
      if (pending.size() < 2 || allDistinct(pending)) {
        return pending;
      }
      Map<String, Pending> byKey = new LinkedHashMap<>();
      for (Pending p : pending) {
        byKey.merge(p.charge.key().storageKey(), p, (a, b) -> {
          Pending strict = stricter(b.charge, a.charge) ? b : a;
          BigDecimal amount = a.charge.amount().max(b.charge.amount());
          return new Pending(new Charge(strict.charge.key(), amount, strict.charge.limit(),
              strict.charge.inclusive()), strict.rule);
        });
      }
      return byKey.size() == pending.size() ? pending : new ArrayList<>(byKey.values());
    }

    /** Whether no two of a few charges share a counter: the common case, checked without a map. */
    private boolean allDistinct(List<Pending> pending) {
      int n = pending.size();
      if (n > 8) {
        return false; // many charges: let the map find out
      }
      for (int i = 1; i < n; i++) {
        String k = pending.get(i).charge.key().storageKey();
        for (int j = 0; j < i; j++) {
          if (pending.get(j).charge.key().storageKey().equals(k)) {
            return false;
          }
        }
      }
      return true;
    }

    private boolean stricter(Charge a, Charge b) {
      if (a.limit() == null) {
        return false;
      }
      if (b.limit() == null) {
        return true;
      }
      int cmp = a.limit().compareTo(b.limit());
      return cmp < 0 || (cmp == 0 && !a.inclusive() && b.inclusive());
    }

    /** The charges of these pending ones, as a read-only view (no copy). */
    private List<Charge> charges(List<Pending> pending) {
      return new AbstractList<>() {
        @Override
        public Charge get(int index) {
          return pending.get(index).charge;
        }

        @Override
        public int size() {
          return pending.size();
        }
      };
    }

    private JsonNode redacted(List<CPolicy> matching) {
      List<ArgPath> paths = null;
      for (CPolicy p : matching) {
        if (!p.redact.isEmpty()) {
          if (paths == null) {
            paths = new ArrayList<>();
          }
          paths.addAll(p.redact);
        }
      }
      return paths == null ? args : Redactor.redact(args, paths);
    }

    private ApprovalRequest approval(Verdict hold, JsonNode redacted) {
      byte[] id = new byte[16];
      RANDOM.nextBytes(id);
      Duration timeout = hold.rule.approvalTimeout != null ? hold.rule.approvalTimeout
          : hold.policy.policy.approvals().defaultTimeout();
      String canonical = canonical();
      Instant created = Instant.ofEpochMilli(now);
      return new ApprovalRequest("apr_" + HexFormat.of().formatHex(id), tool, canonical,
          Canonical.write(redacted), argsHash, hold.policy.name, hold.policy.version,
          hold.rule.name, hold.message, ctx, created, created.plus(timeout),
          callKey(tool, argsHash, ctx), hold.policy.policy.approvals().waitMode());
    }

    private String canonical() {
      if (canonicalArgs == null) {
        canonicalArgs = Canonical.write(args);
        argsHash = Canonical.sha256(canonicalArgs);
      }
      return canonicalArgs;
    }

    /** Returns {enforced verdict, shadow-inclusive verdict}; null entries mean "passes". */
    private Verdict[] evaluatePolicy(CPolicy p) {
      if (p.shadow) {
        shadowInvolved = true;
      }
      // Steps 2–3.
      if (p.hides(tool)) {
        Verdict v = new Verdict(Outcome.DENY, p, null, "Tool \"" + tool + "\" is hidden by policy",
            null);
        return p.shadow ? new Verdict[] {null, v} : new Verdict[] {v, v};
      }
      CRule[] rules = p.tools.get(tool);
      if (rules == null) {
        if (!p.policy.defaultAllow()) {
          Verdict v = new Verdict(Outcome.DENY, p, null,
              "Tool \"" + tool + "\" is not permitted by policy", null);
          return p.shadow ? new Verdict[] {null, v} : new Verdict[] {v, v};
        }
        rules = new CRule[0];
      }
      // Per-tool controls before any rule: the error breaker, then the argument schema.
      dev.saferun.policy.ToolOptions opts = p.options(tool);
      if (opts.breaker() != null && !p.shadow) {
        String m = breakers.check(tool, opts.breaker(), now);
        if (m != null) {
          Verdict v = new Verdict(Outcome.DENY, p, null, m, null);
          return new Verdict[] {v, v};
        }
      }
      if (opts.schema() == dev.saferun.policy.ToolOptions.SchemaMode.STRICT) {
        String m = null;
        if (!schemas.has(tool)) {
          m = "Tool \"" + tool + "\" requires a schema (schema: strict) but none is registered";
        } else {
          String violation = schemas.firstViolation(tool, args);
          if (violation != null) {
            m = "Arguments do not match the schema of tool \"" + tool + "\": " + violation;
          }
        }
        if (m != null) {
          Verdict v = new Verdict(Outcome.DENY, p, null, m, null);
          return p.shadow ? new Verdict[] {null, v} : new Verdict[] {v, v};
        }
      }
      // Loop breakers count every attempt, whatever the decision: record them first.
      long[] toolAttempts = recordLoops(rules);
      long[] allAttempts = recordLoops(p.all);

      int granted = -1;
      if (grant != null && grant.policy().equals(p.name) && grant.tool().equals(tool)) {
        for (CRule r : rules) {
          if (r.name.equals(grant.rule())) {
            granted = r.index;
          }
        }
      }
      // This policy's enforced charges go straight to the call's list, from this index on (a
      // shadow policy has none: all its rules are shadow rules).
      int enforcedFrom = enforcedCharges.size();
      List<Pending> policyShadow = new ArrayList<>();
      Verdict shadowFirst = null;
      Verdict enforced = null;
      for (int pass = 0; pass < 2 && enforced == null; pass++) {
        CRule[] list = pass == 0 ? rules : p.all;
        long[] attempts = pass == 0 ? toolAttempts : allAttempts;
        for (int i = 0; i < list.length; i++) {
          CRule r = list[i];
          if (pass == 0 && granted >= 0 && i >= granted
              && (i == granted || !r.hasCounterWork())) {
            trace(r, RuleResult.PASSED, "approved");
            continue;
          }
          List<Pending> sink = r.shadow ? policyShadow : enforcedCharges;
          Verdict v = evaluateRule(p, r, attempts == null ? 0 : attempts[i], sink);
          if (r.shadow) {
            shadowInvolved = true;
            if (v != null && shadowFirst == null) {
              Verdict earlier = firstOverLimit(policyShadow,
                  enforcedCharges.subList(enforcedFrom, enforcedCharges.size()));
              shadowFirst = earlier != null ? earlier : v;
            }
          } else if (v != null) {
            Verdict earlier = firstOverLimit(
                enforcedCharges.subList(enforcedFrom, enforcedCharges.size()));
            enforced = earlier != null ? earlier : v;
            break;
          }
        }
      }
      if (p.shadow) {
        if (shadowFirst == null) {
          addAll(shadowCharges, policyShadow);
        }
        return shadowFirst == null ? PASSES : new Verdict[] {null, shadowFirst};
      }
      if (shadowFirst == null && enforced == null) {
        addAll(shadowCharges, policyShadow);
      }
      return shadowFirst == null && enforced == null ? PASSES
          : new Verdict[] {enforced, shadowFirst != null ? shadowFirst : enforced};
    }

    /** ArrayList.addAll without its array copy (this runs on every call). */
    private void addAll(List<Pending> to, List<Pending> from) {
      for (int i = 0; i < from.size(); i++) {
        to.add(from.get(i));
      }
    }

    private long[] recordLoops(CRule[] rules) {
      long[] attempts = null;
      for (int i = 0; i < rules.length; i++) {
        CRule r = rules[i];
        if (r.loop != null) {
          if (attempts == null) {
            attempts = new long[rules.length];
          }
          canonical();
          String run = ctx.get(dev.saferun.CallContext.RUN);
          CounterKey key = CounterKey.of(tool + "." + r.loopScopeName, r.loop.window(),
              "args=" + argsHash + (run == null ? "" : "&run=" + run), r.shadow);
          // The same breaker may be defined in several policies of the set: record one attempt.
          if (loopAttempts == null) {
            loopAttempts = new HashMap<>(4);
          }
          attempts[i] = loopAttempts.computeIfAbsent(key.storageKey(),
              k -> store.recordAttempt(key, now));
        }
      }
      return attempts;
    }

    /** Evaluates one rule at its place; null when it passes (its charges added to sink). */
    private Verdict evaluateRule(CPolicy p, CRule r, long priorAttempts, List<Pending> sink) {
      // Conditions (other than the own-counter limit, which the validator moved to r.limit).
      boolean allTrue = true;
      String failed = null;
      for (CCond c : r.conds) {
        Object actual = resolve(c);
        if (!Compiled.test(c, actual)) {
          allTrue = false;
          if (traces != null) {
            failed = c.condition.path() + " = " + Compiled.show(actual) + " is not " + c.op + " "
                + Compiled.show(c.value);
          }
          break;
        }
      }
      if (r.action == Action.DENY) {
        if (allTrue) {
          trace(r, RuleResult.DENIED, r.conds.length == 0 ? "always denies" : "conditions hold");
          return new Verdict(Outcome.DENY, p, r, r.denyMessage, null);
        }
        trace(r, RuleResult.PASSED, failed);
        return null;
      }
      if (r.action == Action.REQUIRE_APPROVAL) {
        if (allTrue) {
          trace(r, RuleResult.HELD, r.conds.length == 0 ? "always holds" : "conditions hold");
          return new Verdict(Outcome.HOLD, p, r, r.holdMessage, null);
        }
        trace(r, RuleResult.PASSED, failed);
        return null;
      }
      if (!allTrue) {
        trace(r, RuleResult.DENIED, failed);
        return new Verdict(Outcome.DENY, p, r, r.denyMessage, null);
      }
      if (r.loop != null && priorAttempts >= r.loop.maxRepeats()) {
        String m = r.loopMessage(tool, priorAttempts + 1);
        trace(r, RuleResult.DENIED, m);
        return new Verdict(Outcome.DENY, p, r, m, null);
      }
      BigDecimal amount = null;
      if (r.incrementFrom != null) {
        JsonNode n = r.incrementFrom.resolve(args);
        if (n == null || !n.isNumber() || n.decimalValue().signum() < 0) {
          String m = "Rule \"" + r.name + "\": " + r.incrementFromText
              + " must be a non-negative number";
          trace(r, RuleResult.DENIED, m);
          return new Verdict(Outcome.DENY, p, r, m, null);
        }
        amount = n.decimalValue();
      } else if (r.spend) {
        amount = prices.get(tool);
        if (amount == null) {
          String m = "Rule \"" + r.name + "\": no price registered for tool \"" + tool + "\"";
          trace(r, RuleResult.DENIED, m);
          return new Verdict(Outcome.DENY, p, r, m, null);
        }
      } else if (r.counter != null) {
        amount = r.fixedIncrement;
      }
      if (r.perCall != null && amount.compareTo(r.perCall) > 0) {
        String m = r.perCallMessage(amount);
        trace(r, RuleResult.DENIED, m);
        return new Verdict(Outcome.DENY, p, r, m, null);
      }
      if (r.counter != null) {
        CounterKey key = r.counter.key(ctx);
        // The limit is not read here: an allowed call goes straight to one atomic charge, whose
        // in-order refusal names the same rule a read here would have (one store round trip per
        // decision). Only when a later rule denies or holds are earlier limits read (see
        // firstOverLimit), so the first decisive rule is still the one SPEC §6 names.
        sink.add(new Pending(r.fixedCharge != null ? r.fixedCharge
            : new Charge(key, amount, r.limit, r.inclusive), r));
      }
      trace(r, RuleResult.PASSED, null);
      return null;
    }

    /**
     * Reads the limited counters of these pending charges and returns a limit denial for the
     * first one (in rule order) already over its limit with this call's increment, or null.
     */
    @SafeVarargs
    private Verdict firstOverLimit(List<Pending>... lists) {
      Pending first = null;
      BigDecimal firstValue = null;
      long firstKey = Long.MAX_VALUE;
      for (List<Pending> list : lists) {
        for (Pending pd : list) {
          long key = indexOf(pd.rule.policy) * 10_000_000L + order(pd.rule);
          if (pd.charge.limit() == null || key >= firstKey) {
            continue; // no limit, or cannot come before the one found: no need to read it
          }
          BigDecimal current = store.read(pd.charge.key(), now);
          if (!pd.charge.fits(current)) {
            first = pd;
            firstValue = current;
            firstKey = key;
          }
        }
      }
      if (first == null) {
        return null;
      }
      CRule r = first.rule;
      if (traces != null) {
        trace(r, RuleResult.DENIED, r.counter.qualifiedName + " = " + firstValue.toPlainString()
            + " + " + first.charge.amount().toPlainString() + " is over "
            + (r.inclusive ? "lte " : "lt ") + r.limit.toPlainString());
      }
      return new Verdict(Outcome.DENY, r.policy, r, r.limitMessage, retryAfter(r));
    }

    /** A rule's place in its policy: tool rules first, then "*" rules, in file order. */
    private int order(CRule r) {
      return (Policy.ALL_TOOLS.equals(r.toolList) ? 1_000_000 : 0) + r.index;
    }

    private int indexOf(CPolicy p) {
      for (int i = 0; i < policies.length; i++) {
        if (policies[i] == p) {
          return i;
        }
      }
      return Integer.MAX_VALUE;
    }

    /** For a limit on a fixed window: the time until the window resets; else null. */
    private Duration retryAfter(CRule r) {
      if (r.counter == null || !r.counter.window.fixed()) {
        return null;
      }
      long size = r.counter.window.bucketMillis();
      return Duration.ofMillis(size - Math.floorMod(now, size));
    }

    private Object resolve(CCond c) {
      switch (c.source) {
        case Compiled.ARGS:
          return c.argPath.resolve(args);
        case Compiled.CONTEXT:
          return ctx.get(c.contextKey);
        default:
          return store.read(c.counter.key(ctx), now);
      }
    }

    private void trace(CRule r, RuleResult result, String detail) {
      if (traces != null) {
        traces.add(new RuleTrace(r.policy.name, r.toolList, r.name, result, r.shadow, detail));
      }
    }

    private void traceCharge(CRule r, String message) {
      if (traces != null) {
        traces.add(new RuleTrace(r.policy.name, r.toolList, r.name, RuleResult.DENIED, r.shadow,
            "refused when charging: " + message));
      }
    }
  }


}
