package dev.saferun.policy;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.internal.json.ArgPath;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * The one validator every policy goes through, YAML-loaded or Java-built. Collects every problem
 * with its location and key path, then either throws them all or builds the immutable model.
 */
final class PolicyValidator {
  private static final java.util.regex.Pattern COUNTER_NAME =
      java.util.regex.Pattern.compile("[A-Za-z0-9_-]+");
  private static final java.util.regex.Pattern RATE =
      java.util.regex.Pattern.compile("(\\d{1,12})/(.+)");

  private final Policy.Builder b;
  private final List<Problem> problems = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  /** counter qualified name -> (window text, per) of its definition, for state. references. */
  private final Map<String, Counter> counters = new LinkedHashMap<>();
  private final Map<String, String> counterDefinedAt = new HashMap<>();

  PolicyValidator(Policy.Builder builder) {
    this.b = builder;
  }

  Policy validate() {
    problems.addAll(b.loaderProblems);
    Object version = b.version;
    if (version == null) {
      error("version", "missing required key 'version' (use version: \"1\")");
    } else if (!("1".equals(version) || BigDecimal.ONE.equals(version)
        || (version instanceof BigDecimal && ((BigDecimal) version).compareTo(BigDecimal.ONE) == 0
            && ((BigDecimal) version).scale() <= 0))) {
      error("version", "unsupported version '" + version + "': SafeRun reads version \"1\"");
    }
    String name = b.name;
    if (name == null || name.isBlank()) {
      error("name", "policy name must not be empty");
      name = "<unnamed>";
    }
    boolean defaultAllow = false;
    if (b.defaultDecision != null) {
      if ("allow".equals(b.defaultDecision)) {
        defaultAllow = true;
      } else if (!"deny".equals(b.defaultDecision)) {
        error("default", "default must be allow or deny, got '" + b.defaultDecision + "'"
            + suggest(String.valueOf(b.defaultDecision), List.of("allow", "deny")));
      }
    }
    Mode mode = parseMode(b.mode, "mode");

    Map<String, List<String>> match = new LinkedHashMap<>();
    b.match.forEach((attr, values) -> {
      List<String> vs = new ArrayList<>();
      for (int i = 0; i < values.size(); i++) {
        Object v = values.get(i);
        if (v instanceof String) {
          vs.add((String) v);
        } else {
          error("match." + attr, "match values must be strings, got " + describe(v));
        }
      }
      if (vs.isEmpty()) {
        error("match." + attr, "match." + attr + " lists no value: the policy would never apply");
      }
      match.put(attr, List.copyOf(vs));
    });

    List<String> hide = strings(b.hide, "hide");
    boolean hideUnlisted = false;
    if (b.hideUnlisted != null) {
      if (b.hideUnlisted instanceof Boolean) {
        hideUnlisted = (Boolean) b.hideUnlisted;
      } else {
        error("hide_unlisted", "hide_unlisted must be true or false, got " + describe(b.hideUnlisted));
      }
    }
    if (hideUnlisted && defaultAllow) {
      warn("hide_unlisted", "hide_unlisted has no effect with default: allow");
    }
    List<String> redact = strings(b.redact, "redact");
    for (int i = 0; i < redact.size(); i++) {
      String p = redact.get(i);
      if (!p.startsWith("args.")) {
        error("redact[" + i + "]", "redact paths must start with 'args.', got '" + p + "'");
      } else {
        try {
          ArgPath.parse(p, p.substring(5));
        } catch (IllegalArgumentException e) {
          error("redact[" + i + "]", e.getMessage());
        }
      }
    }

    Duration approvalTimeout = Policy.Approvals.DEFAULT.defaultTimeout();
    if (b.approvalTimeout != null) {
      approvalTimeout = duration(b.approvalTimeout, "approvals.default_timeout");
    }
    if (b.approvalOnTimeout != null && !"deny".equals(b.approvalOnTimeout)) {
      error("approvals.on_timeout",
          "approvals.on_timeout must be deny (the only value in v1), got '" + b.approvalOnTimeout + "'");
    }
    boolean waitMode = true;
    if (b.approvalMode != null) {
      if ("defer".equals(b.approvalMode)) {
        waitMode = false;
      } else if (!"wait".equals(b.approvalMode)) {
        error("approvals.mode", "approvals.mode must be wait or defer, got '" + b.approvalMode + "'"
            + suggest(String.valueOf(b.approvalMode), List.of("wait", "defer")));
      }
    }

    // Pass 1: counters defined anywhere, so state. paths can refer forward.
    b.tools.forEach((tool, tb) -> {
      for (int i = 0; i < tb.rules.size(); i++) {
        defineCounters(tool, i, tb.rules.get(i));
      }
    });

    ToolOptions.SchemaMode schemaDefault = schemaMode(b.schema, "schema");
    Map<String, ToolOptions> options = new LinkedHashMap<>();
    for (Map.Entry<String, Policy.ToolBuilder> e : b.tools.entrySet()) {
      ToolOptions o = toolOptions(e.getKey(), e.getValue());
      if (o != null) {
        options.put(e.getKey(), o);
      }
    }
    Map<String, List<Rule>> tools = new LinkedHashMap<>();
    List<Rule> all = List.of();
    for (Map.Entry<String, Policy.ToolBuilder> e : b.tools.entrySet()) {
      String tool = e.getKey();
      if (tool == null || tool.isBlank()) {
        error("tools", "tool names must not be empty");
        continue;
      }
      List<Rule> rules = rules(tool, e.getValue());
      if (Policy.ALL_TOOLS.equals(tool)) {
        all = rules;
      } else {
        tools.put(tool, rules);
      }
      if (hide.contains(tool) && !Policy.ALL_TOOLS.equals(tool)) {
        warn("tools." + tool, "tool '" + tool + "' is listed but also hidden: it is always denied");
      }
    }

    List<Problem> errors = new ArrayList<>();
    for (Problem p : problems) {
      if (!p.warning()) {
        errors.add(p);
      }
    }
    if (!errors.isEmpty()) {
      List<Problem> sorted = new ArrayList<>(problems);
      sorted.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
      throw new PolicyConfigException(sorted);
    }
    List<String> warningTexts = new ArrayList<>();
    for (Problem p : problems) {
      warningTexts.add(p.toString());
    }
    String version1 = b.sourceBytes != null ? sha256(b.sourceBytes) : null;
    Policy policy = new Policy(name, b.description, version1 == null ? "" : version1, b.source,
        defaultAllow, mode, Collections.unmodifiableMap(match), hide, hideUnlisted, redact,
        new Policy.Approvals(approvalTimeout, waitMode), Collections.unmodifiableMap(tools), all,
        List.copyOf(warningTexts), Map.copyOf(options), schemaDefault);
    if (version1 == null) {
      // Java-built: a stable fingerprint of the validated content.
      String canonical = name + '\n' + defaultAllow + '\n' + mode + '\n' + match + '\n' + hide
          + '\n' + hideUnlisted + '\n' + redact + '\n' + policy.approvals() + '\n' + tools + '\n'
          + all + '\n' + options + '\n' + schemaDefault;
      policy = new Policy(name, b.description, sha256(canonical.getBytes(StandardCharsets.UTF_8)),
          b.source, defaultAllow, mode, Collections.unmodifiableMap(match), hide, hideUnlisted,
          redact, policy.approvals(), Collections.unmodifiableMap(tools), all,
          List.copyOf(warningTexts), Map.copyOf(options), schemaDefault);
    }
    return policy;
  }

  /** The problems found, warnings included, for callers that only validate. */
  List<Problem> problems() {
    return problems;
  }

  // ---------------------------------------------------------------- tool options

  private ToolOptions.SchemaMode schemaMode(Object raw, String at) {
    if (raw == null) {
      return null;
    }
    if ("strict".equals(raw)) {
      return ToolOptions.SchemaMode.STRICT;
    }
    if ("off".equals(raw)) {
      return ToolOptions.SchemaMode.OFF;
    }
    error(at, "schema must be strict or off, got " + describe(raw)
        + suggest(String.valueOf(raw), List.of("strict", "off")));
    return null;
  }

  private ToolOptions toolOptions(String tool, Policy.ToolBuilder tb) {
    String at = "tools." + tool;
    ToolOptions.SchemaMode schema = schemaMode(tb.schema, at + ".schema");
    ToolOptions.Breaker breaker = null;
    if (tb.breaker != null) {
      for (String key : tb.breaker.keySet()) {
        if (!List.of("failures", "window", "cooldown").contains(key)) {
          error(at + ".breaker." + key, "unknown key '" + key + "' in breaker"
              + suggest(key, List.of("failures", "window", "cooldown")));
        }
      }
      Object f = tb.breaker.get("failures");
      int failures = 0;
      if (!(f instanceof BigDecimal) || ((BigDecimal) f).stripTrailingZeros().scale() > 0
          || ((BigDecimal) f).signum() <= 0 || ((BigDecimal) f).compareTo(BigDecimal.valueOf(10_000)) > 0) {
        error(at + ".breaker.failures", "breaker failures must be a whole number from 1 to 10000,"
            + " got " + describe(f));
      } else {
        failures = ((BigDecimal) f).intValueExact();
      }
      Duration window = tb.breaker.get("window") == null ? null
          : duration(tb.breaker.get("window"), at + ".breaker.window");
      Duration cooldown = tb.breaker.get("cooldown") == null ? null
          : duration(tb.breaker.get("cooldown"), at + ".breaker.cooldown");
      if (window == null && tb.breaker.get("window") == null) {
        error(at + ".breaker", "breaker needs a window (e.g. 1m)");
      }
      if (cooldown == null && tb.breaker.get("cooldown") == null) {
        error(at + ".breaker", "breaker needs a cooldown (e.g. 30s)");
      }
      if (failures > 0 && window != null && cooldown != null) {
        breaker = new ToolOptions.Breaker(failures, window, cooldown);
      }
    }
    ToolOptions.ResultControls result = null;
    if (tb.result != null) {
      for (String key : tb.result.keySet()) {
        if (!List.of("max_chars", "redact").contains(key)) {
          error(at + ".result." + key, "unknown key '" + key + "' in result"
              + suggest(key, List.of("max_chars", "redact")));
        }
      }
      Integer max = null;
      Object m = tb.result.get("max_chars");
      if (m != null) {
        if (!(m instanceof BigDecimal) || ((BigDecimal) m).stripTrailingZeros().scale() > 0
            || ((BigDecimal) m).signum() <= 0
            || ((BigDecimal) m).compareTo(BigDecimal.valueOf(100_000_000)) > 0) {
          error(at + ".result.max_chars", "max_chars must be a whole number from 1 to 100000000,"
              + " got " + describe(m));
        } else {
          max = ((BigDecimal) m).intValueExact();
        }
      }
      List<String> patterns = strings(tb.result.get("redact"), at + ".result.redact", true);
      for (int i = 0; i < patterns.size(); i++) {
        try {
          Pattern.compile(patterns.get(i));
        } catch (PatternSyntaxException e) {
          error(at + ".result.redact[" + i + "]", "pattern does not compile (RE2 syntax): "
              + e.getMessage());
        }
      }
      result = new ToolOptions.ResultControls(max, patterns);
    }
    if (schema == null && breaker == null && result == null) {
      return null;
    }
    return new ToolOptions(schema, breaker, result);
  }

  // ---------------------------------------------------------------- counters

  private static String scopeOf(String tool) {
    return Policy.ALL_TOOLS.equals(tool) ? Policy.GLOBAL_SCOPE : tool;
  }

  private void defineCounters(String tool, int i, Policy.RuleBuilder rb) {
    String at = "tools." + tool + ".rules[" + i + "]";
    String scope = scopeOf(tool);
    if (rb.state != null) {
      Object c = rb.state.get("counter");
      Object w = rb.state.get("window");
      if (c instanceof String && COUNTER_NAME.matcher((String) c).matches() && w instanceof String) {
        try {
          Window window = Window.parse((String) w);
          List<String> per = strings(rb.state.get("per"), at + ".state.per", false);
          register(new Counter(scope, (String) c, window, BigDecimal.ONE, null, per), at + ".state");
        } catch (IllegalArgumentException ignored) {
          // reported in rules()
        }
      }
    }
    if (rb.rateLimit != null) {
      RateParts r = rateParts(rb.rateLimit, at + ".rate_limit", false);
      if (r != null) {
        register(new Counter(scope, "_rate_" + r.window.text(), r.window, BigDecimal.ONE, null,
            r.per), at + ".rate_limit");
      }
    }
    if (rb.spend != null && rb.spend.get("daily") != null) {
      List<String> per = strings(rb.spend.get("per"), at + ".spend.per", false);
      register(new Counter(scope, "_spend_day", Window.DAY, BigDecimal.ONE, null, per),
          at + ".spend");
    }
  }

  private void register(Counter c, String at) {
    String q = c.qualifiedName();
    if (counters.containsKey(q)) {
      error(at, "counter '" + q + "' is already defined at "
          + loc(counterDefinedAt.get(q)) + "; each counter is charged by one rule");
      return;
    }
    counters.put(q, c);
    counterDefinedAt.put(q, at);
  }

  private static final class RateParts {
    final long limit;
    final Window window;
    final List<String> per;

    RateParts(long limit, Window window, List<String> per) {
      this.limit = limit;
      this.window = window;
      this.per = per;
    }
  }

  private RateParts rateParts(Object raw, String at, boolean report) {
    Object text = raw;
    List<String> per = List.of();
    if (raw instanceof Map) {
      Map<?, ?> m = (Map<?, ?>) raw;
      text = m.get("limit");
      per = strings(m.get("per"), at + ".per", report);
      if (text == null) {
        if (report) {
          error(at, "rate_limit needs 'limit: N/window'");
        }
        return null;
      }
    }
    if (!(text instanceof String)) {
      if (report) {
        error(at, "rate_limit must be 'N/window' (e.g. 10/minute), got " + describe(text));
      }
      return null;
    }
    Matcher m = RATE.matcher((String) text);
    if (!m.matches()) {
      if (report) {
        error(at, "rate_limit must be 'N/window' (e.g. 10/minute, 5/30s), got '" + text + "'");
      }
      return null;
    }
    long n = Long.parseLong(m.group(1));
    if (n <= 0) {
      if (report) {
        error(at, "rate_limit N must be at least 1, got " + n);
      }
      return null;
    }
    try {
      return new RateParts(n, Window.parse(m.group(2)), per);
    } catch (IllegalArgumentException e) {
      if (report) {
        error(at, "rate_limit " + e.getMessage());
      }
      return null;
    }
  }

  // ---------------------------------------------------------------- rules

  private List<Rule> rules(String tool, Policy.ToolBuilder tb) {
    List<Rule> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    String unreachableAfter = null;
    for (int i = 0; i < tb.rules.size(); i++) {
      Policy.RuleBuilder rb = tb.rules.get(i);
      String at = "tools." + tool + ".rules[" + i + "]";
      if (unreachableAfter != null) {
        warn(at, "rule '" + rb.name + "' is never reached: rule '" + unreachableAfter
            + "' before it always decides");
      }
      Rule r = rule(tool, rb, at, names);
      if (r != null) {
        out.add(r);
        if (r.conditions().isEmpty() && r.counter() == null && r.loop() == null
            && r.spend() == null && r.action() != Action.EVALUATE && !r.isShadow()
            && unreachableAfter == null) {
          unreachableAfter = r.name();
        }
      }
    }
    return List.copyOf(out);
  }

  private Rule rule(String tool, Policy.RuleBuilder rb, String at, Set<String> names) {
    int before = errorCount();
    String name = rb.name;
    if (name == null || name.isBlank()) {
      error(at, "rule needs a 'name'");
      name = "<rule " + at + ">";
    } else if (!names.add(name)) {
      error(at + ".name", "duplicate rule name '" + name + "' in tool '" + tool + "'");
    }
    Action action = Action.EVALUATE;
    if (rb.action != null) {
      Action a = rb.action instanceof String ? Action.fromYaml((String) rb.action) : null;
      if (a == null) {
        error(at + ".action", "action must be evaluate, deny or require_approval, got '"
            + rb.action + "'" + suggest(String.valueOf(rb.action),
                List.of("evaluate", "deny", "require_approval")));
      } else {
        action = a;
      }
    }
    Mode mode = parseMode(rb.mode, at + ".mode");
    String onDeny = null;
    if (rb.onDeny != null) {
      if (rb.onDeny instanceof String) {
        onDeny = (String) rb.onDeny;
      } else {
        error(at + ".on_deny", "on_deny must be text, got " + describe(rb.onDeny));
      }
    }
    String scope = scopeOf(tool);
    int shorthands = (rb.rateLimit != null ? 1 : 0) + (rb.spend != null ? 1 : 0)
        + (rb.loop != null ? 1 : 0);
    if (shorthands > 1) {
      error(at, "a rule may use only one of rate_limit, spend and loop");
    }
    if (shorthands > 0) {
      if (!rb.conditions.isEmpty()) {
        error(at + ".conditions", "a rule with rate_limit, spend or loop has no conditions of its"
            + " own: put the conditions in another rule");
      }
      if (rb.state != null) {
        error(at + ".state", "a rule with rate_limit, spend or loop has no state of its own");
      }
      if (action == Action.DENY) {
        error(at + ".action", "a rule with rate_limit, spend or loop cannot have action: deny");
      } else if (action == Action.REQUIRE_APPROVAL) {
        error(at + ".action", "rate_limit, spend and loop need action: evaluate (SafeRun does not"
            + " let an approval lift a counter past its limit)");
      }
    }

    Counter counter = null;
    if (rb.state != null) {
      if (action != Action.EVALUATE) {
        error(at + ".state", "state (a counter) needs action: evaluate; a " + action
            + " rule charges nothing");
      }
      counter = state(scope, rb.state, at + ".state");
    }
    Rule.RateLimit rate = null;
    if (rb.rateLimit != null) {
      RateParts r = rateParts(rb.rateLimit, at + ".rate_limit", true);
      if (r != null) {
        rate = new Rule.RateLimit(r.limit, r.window, r.per);
        counter = new Counter(scope, "_rate_" + r.window.text(), r.window, BigDecimal.ONE, null,
            r.per);
      }
    }
    Rule.Spend spend = null;
    if (rb.spend != null) {
      spend = spend(rb.spend, at + ".spend");
      if (spend != null && spend.daily() != null) {
        counter = new Counter(scope, "_spend_day", Window.DAY, BigDecimal.ONE, spend.amountFrom(),
            spend.per());
      }
    }
    Rule.Loop loop = null;
    if (rb.loop != null) {
      loop = loop(rb.loop, at + ".loop");
    }

    List<Condition> conditions = new ArrayList<>();
    BigDecimal limit = null;
    boolean inclusive = true;
    for (int j = 0; j < rb.conditions.size(); j++) {
      Object[] raw = rb.conditions.get(j);
      String cat = at + ".conditions[" + j + "]";
      Condition c = condition(raw, cat, scope);
      if (c == null) {
        continue;
      }
      if (counter != null && c.path().equals("state." + counter.qualifiedName())) {
        // A limit on the rule's own counter: checked on the projected value, atomically.
        if (c.op() == Op.LTE || c.op() == Op.LT) {
          BigDecimal v = (BigDecimal) c.value();
          boolean incl = c.op() == Op.LTE;
          if (limit == null || v.compareTo(limit) < 0 || (v.compareTo(limit) == 0 && !incl)) {
            limit = v;
            inclusive = incl;
          }
          if ((incl && v.signum() <= 0) || (!incl && v.compareTo(counter.increment()) <= 0
              && counter.incrementFrom() == null)) {
            warn(cat, "rule '" + name + "' can never pass: its own counter starts at 0 and every"
                + " call adds at least " + counter.increment() + ", over the limit " + c.op()
                + " " + v);
          }
          continue;
        }
        error(cat + ".op", "a condition on the rule's own counter must be lt or lte (a limit"
            + " checked atomically when charging), got '" + c.op() + "'");
        continue;
      }
      conditions.add(c);
    }
    if (action == Action.EVALUATE && rb.conditions.isEmpty() && rb.state == null
        && rb.rateLimit == null && rb.spend == null && rb.loop == null) {
      error(at, "evaluate rule '" + name + "' needs at least one condition, or a state,"
          + " rate_limit, spend or loop block");
    }
    if (rate != null) {
      limit = BigDecimal.valueOf(rate.limit());
      inclusive = true;
    }
    if (spend != null && spend.daily() != null) {
      limit = spend.daily();
      inclusive = true;
    }
    Duration approvalTimeout = null;
    if (rb.approvalTimeout != null) {
      approvalTimeout = duration(rb.approvalTimeout, at + ".approval_timeout");
      if (action != Action.REQUIRE_APPROVAL) {
        warn(at + ".approval_timeout", "approval_timeout only matters on require_approval rules");
      }
    }
    neverPasses(name, action, conditions, at);
    if (errorCount() > before) {
      return null;
    }
    SourceLocation location = locationOf(at);
    return new Rule(name, action, conditions, onDeny, counter, limit, inclusive, rate, spend, loop,
        approvalTimeout, mode, location);
  }

  private Counter state(String scope, Map<String, Object> s, String at) {
    for (String key : s.keySet()) {
      if (!List.of("counter", "window", "increment", "increment_from", "per").contains(key)) {
        error(at + "." + key, "unknown key '" + key + "' in state" + suggest(key,
            List.of("counter", "window", "increment", "increment_from", "per")));
      }
    }
    Object c = s.get("counter");
    if (!(c instanceof String) || !COUNTER_NAME.matcher((String) c).matches()) {
      error(at + ".counter", c == null ? "state needs a 'counter' name"
          : "counter name must use letters, digits, '_' or '-', got " + describe(c));
      return null;
    }
    Object w = s.get("window");
    Window window = null;
    if (w == null) {
      error(at + ".window", "state needs a 'window' (minute, hour, day or a duration like 24h)");
    } else if (!(w instanceof String)) {
      error(at + ".window", "window must be minute, hour, day or a duration, got " + describe(w));
    } else {
      try {
        window = Window.parse((String) w);
      } catch (IllegalArgumentException e) {
        error(at + ".window", e.getMessage());
      }
    }
    BigDecimal increment = BigDecimal.ONE;
    Object inc = s.get("increment");
    String incFrom = null;
    if (inc != null) {
      if (!(inc instanceof BigDecimal)) {
        error(at + ".increment", "increment must be a number, got " + describe(inc));
      } else if (((BigDecimal) inc).signum() <= 0) {
        error(at + ".increment", "increment must be > 0, got " + ((BigDecimal) inc).toPlainString()
            + " (counters never decrease)");
      } else {
        increment = (BigDecimal) inc;
      }
    }
    Object from = s.get("increment_from");
    if (from != null) {
      if (inc != null) {
        error(at + ".increment_from", "use increment or increment_from, not both");
      }
      incFrom = argPath(from, at + ".increment_from");
    }
    List<String> per = strings(s.get("per"), at + ".per", true);
    if (window == null) {
      return null;
    }
    return new Counter(scope, (String) c, window, increment, incFrom, per);
  }

  private Rule.Spend spend(Map<String, Object> s, String at) {
    for (String key : s.keySet()) {
      if (!List.of("per_call", "daily", "amount_from", "per").contains(key)) {
        error(at + "." + key, "unknown key '" + key + "' in spend"
            + suggest(key, List.of("per_call", "daily", "amount_from", "per")));
      }
    }
    BigDecimal perCall = positive(s.get("per_call"), at + ".per_call");
    BigDecimal daily = positive(s.get("daily"), at + ".daily");
    if (s.get("per_call") == null && s.get("daily") == null) {
      error(at, "spend needs per_call, daily or both");
    }
    String from = s.get("amount_from") == null ? null : argPath(s.get("amount_from"),
        at + ".amount_from");
    if (s.get("amount_from") == null) {
      warn(at, "spend has no amount_from: it charges the tool's price, which must be registered"
          + " in code (SafeRun.builder().price(tool, amount)); without one the policy does not"
          + " load" + (at.startsWith("tools.*.") ? " for listed tools and unpriced calls are"
          + " denied" : ""));
    }
    List<String> per = strings(s.get("per"), at + ".per", true);
    return new Rule.Spend(perCall, daily, from, per);
  }

  private Rule.Loop loop(Map<String, Object> l, String at) {
    for (String key : l.keySet()) {
      if (!List.of("max_repeats", "window").contains(key)) {
        error(at + "." + key, "unknown key '" + key + "' in loop"
            + suggest(key, List.of("max_repeats", "window")));
      }
    }
    Object m = l.get("max_repeats");
    int max = 0;
    if (!(m instanceof BigDecimal) || ((BigDecimal) m).stripTrailingZeros().scale() > 0
        || ((BigDecimal) m).signum() <= 0 || ((BigDecimal) m).compareTo(BigDecimal.valueOf(1_000_000)) > 0) {
      error(at + ".max_repeats", "max_repeats must be a whole number from 1 to 1000000, got "
          + describe(m));
    } else {
      max = ((BigDecimal) m).intValueExact();
    }
    Object w = l.get("window");
    Window window = null;
    if (!(w instanceof String)) {
      error(at + ".window", "loop needs a window duration like 60s or 10m, got " + describe(w));
    } else {
      try {
        window = Window.parse((String) w);
        if (window.fixed()) {
          error(at + ".window", "a loop window is rolling: write a duration (1m, 1h, 1d), got '"
              + w + "'");
          window = null;
        }
      } catch (IllegalArgumentException e) {
        error(at + ".window", e.getMessage());
      }
    }
    return window == null || max == 0 ? null : new Rule.Loop(max, window);
  }

  private Condition condition(Object[] raw, String at, String scope) {
    Object path = raw[0];
    Object opRaw = raw[1];
    Object value = raw[2];
    int before = errorCount();
    String p = null;
    if (!(path instanceof String)) {
      error(at + ".path", path == null ? "condition needs a 'path'" : "path must be text");
    } else {
      p = (String) path;
      if (p.startsWith("args.")) {
        try {
          ArgPath.parse(p, p.substring(5));
        } catch (IllegalArgumentException e) {
          error(at + ".path", e.getMessage());
        }
      } else if (p.startsWith("context.")) {
        if (p.length() == "context.".length()) {
          error(at + ".path", "path 'context.' names no attribute");
        }
      } else if (p.startsWith("state.")) {
        if (!counters.containsKey(p.substring(6))) {
          String known = String.join(", ", counters.keySet());
          error(at + ".path", "path '" + p + "' refers to no counter defined in this policy"
              + (known.isEmpty() ? " (none is defined)" : "; defined: " + known)
              + suggest(p.substring(6), new ArrayList<>(counters.keySet())));
        }
      } else {
        error(at + ".path", "path must start with args., context. or state., got '" + p + "'");
      }
    }
    Op op = null;
    if (!(opRaw instanceof String)) {
      error(at + ".op", opRaw == null ? "condition needs an 'op'" : "op must be text");
    } else {
      op = Op.fromYaml((String) opRaw);
      if (op == null) {
        List<String> ops = new ArrayList<>();
        for (Op o : Op.values()) {
          ops.add(o.yamlName());
        }
        error(at + ".op", "unknown operator '" + opRaw + "'" + suggest((String) opRaw, ops)
            + "; operators: " + String.join(", ", ops));
      }
    }
    if (op != null) {
      value = checkValue(op, value, at + ".value");
    }
    if (errorCount() > before || p == null || op == null || value == null) {
      return null;
    }
    return new Condition(p, op, value, locationOf(at));
  }

  private Object checkValue(Op op, Object value, String at) {
    if (value == null && !(op == Op.EXISTS)) {
      error(at, "operator " + op + " needs a 'value'"
          + (op == Op.EQ ? " (to test for absence use op: exists, value: false)" : ""));
      return null;
    }
    switch (op) {
      case EQ:
      case NEQ:
      case CONTAINS:
        if (!isScalar(value)) {
          error(at, "operator " + op + " needs a scalar value (text, number or boolean), got "
              + describe(value));
          return null;
        }
        return value;
      case IN:
      case NOT_IN:
        if (!(value instanceof List)) {
          error(at, "operator " + op + " needs a list value, got " + describe(value));
          return null;
        }
        for (Object o : (List<?>) value) {
          if (!isScalar(o)) {
            error(at, "operator " + op + " list elements must be scalars, got " + describe(o));
            return null;
          }
        }
        return List.copyOf((List<?>) value);
      case LT:
      case LTE:
      case GT:
      case GTE:
        if (!(value instanceof BigDecimal)) {
          error(at, "operator " + op + " needs a number, got " + describe(value));
          return null;
        }
        return value;
      case REGEX:
        if (!(value instanceof String)) {
          error(at, "operator regex needs a pattern string, got " + describe(value));
          return null;
        }
        try {
          Pattern.compile((String) value);
        } catch (PatternSyntaxException e) {
          error(at, "regex does not compile (RE2 syntax): " + e.getMessage());
          return null;
        }
        return value;
      case EXISTS:
        if (!(value instanceof Boolean)) {
          error(at, "operator exists needs true or false, got " + describe(value));
          return null;
        }
        return value;
      default:
        throw new AssertionError(op);
    }
  }

  private void neverPasses(String name, Action action, List<Condition> conditions, String at) {
    if (action != Action.EVALUATE) {
      return;
    }
    Map<String, BigDecimal> lower = new HashMap<>();
    Map<String, BigDecimal> upper = new HashMap<>();
    Set<String> mustBeAbsent = new HashSet<>();
    Set<String> used = new HashSet<>();
    for (Condition c : conditions) {
      String p = c.path();
      if (c.op() == Op.EXISTS && Boolean.FALSE.equals(c.value())) {
        mustBeAbsent.add(p);
      } else {
        used.add(p);
      }
      if ((c.op() == Op.IN) && ((List<?>) c.value()).isEmpty()) {
        warn(at, "rule '" + name + "' can never pass: " + p + " in [] is always false");
      }
      if (p.startsWith("context.") && c.op() != Op.EXISTS && c.op() != Op.REGEX
          && !(c.value() instanceof String) && !(c.value() instanceof List)) {
        warn(at, "rule '" + name + "' compares context attribute " + p + " (always text) with "
            + describe(c.value()) + ": eq never matches across types");
      }
      if (c.value() instanceof BigDecimal) {
        BigDecimal v = (BigDecimal) c.value();
        if (c.op() == Op.GT || c.op() == Op.GTE) {
          lower.merge(p, v, (a, x) -> a.max(x));
        } else if (c.op() == Op.LT || c.op() == Op.LTE) {
          upper.merge(p, v, (a, x) -> a.min(x));
        }
      }
    }
    for (String p : mustBeAbsent) {
      if (used.contains(p)) {
        warn(at, "rule '" + name + "' can never pass: " + p + " must be absent and also match"
            + " another condition");
      }
    }
    lower.forEach((p, lo) -> {
      BigDecimal hi = upper.get(p);
      if (hi != null && lo.compareTo(hi) > 0) {
        warn(at, "rule '" + name + "' can never pass: " + p + " cannot be both >= "
            + lo.toPlainString() + " and <= " + hi.toPlainString());
      }
    });
  }

  // ---------------------------------------------------------------- helpers

  private Mode parseMode(Object raw, String at) {
    if (raw == null) {
      return Mode.ENFORCE;
    }
    Mode m = raw instanceof String ? Mode.fromYaml((String) raw) : null;
    if (m == null) {
      error(at, "mode must be enforce or shadow, got '" + raw + "'"
          + suggest(String.valueOf(raw), List.of("enforce", "shadow")));
      return Mode.ENFORCE;
    }
    return m;
  }

  private Duration duration(Object raw, String at) {
    if (raw instanceof Duration) {
      return (Duration) raw;
    }
    if (!(raw instanceof String)) {
      error(at, "expected a duration like 90s, 15m, 24h, 7d, got " + describe(raw));
      return null;
    }
    try {
      return Durations.parse((String) raw);
    } catch (IllegalArgumentException e) {
      error(at, "expected a duration like 90s, 15m, 24h, 7d (units ms, s, m, h, d), got '" + raw
          + "'");
      return null;
    }
  }

  private String argPath(Object raw, String at) {
    if (!(raw instanceof String) || !((String) raw).startsWith("args.")) {
      error(at, "expected an args. path (e.g. args.amount), got " + describe(raw));
      return null;
    }
    String p = (String) raw;
    try {
      ArgPath.parse(p, p.substring(5));
      return p;
    } catch (IllegalArgumentException e) {
      error(at, e.getMessage());
      return null;
    }
  }

  private BigDecimal positive(Object raw, String at) {
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof BigDecimal) || ((BigDecimal) raw).signum() <= 0) {
      error(at, "expected a number > 0, got " + describe(raw));
      return null;
    }
    return (BigDecimal) raw;
  }

  private List<String> strings(List<Object> raw, String at) {
    return strings(raw, at, true);
  }

  private List<String> strings(Object raw, String at, boolean report) {
    if (raw == null) {
      return List.of();
    }
    List<?> list = raw instanceof List ? (List<?>) raw : List.of(raw);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Object o = list.get(i);
      if (o instanceof String && !((String) o).isEmpty()) {
        out.add((String) o);
      } else if (report) {
        error(at + "[" + i + "]", "expected text, got " + describe(o));
      }
    }
    return List.copyOf(out);
  }

  private static boolean isScalar(Object o) {
    return o instanceof String || o instanceof BigDecimal || o instanceof Boolean;
  }

  static String describe(Object o) {
    if (o == null) {
      return "nothing";
    }
    if (o instanceof String) {
      return "text '" + o + "'";
    }
    if (o instanceof BigDecimal) {
      return "number " + ((BigDecimal) o).toPlainString();
    }
    if (o instanceof Boolean) {
      return "boolean " + o;
    }
    if (o instanceof List) {
      return "a list";
    }
    if (o instanceof Map) {
      return "a mapping";
    }
    return o.toString();
  }

  /** {@code ", did you mean 'x'?"} for the closest candidate within edit distance 2, else "". */
  static String suggest(String given, List<String> candidates) {
    String best = null;
    int bestD = 3;
    for (String c : candidates) {
      int d = distance(given, c);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return best == null || best.equals(given) ? "" : ", did you mean '" + best + "'?";
  }

  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private int errorCount() {
    int n = 0;
    for (Problem p : problems) {
      if (!p.warning()) {
        n++;
      }
    }
    return n;
  }

  private SourceLocation locationOf(String key) {
    String k = key;
    while (true) {
      SourceLocation l = b.locations.get(k);
      if (l != null) {
        return l;
      }
      int cut = Math.max(k.lastIndexOf('.'), k.lastIndexOf('['));
      if (cut <= 0) {
        return SourceLocation.unknown(b.source);
      }
      k = k.substring(0, cut);
    }
  }

  private String loc(String key) {
    SourceLocation l = locationOf(key);
    return l.line() > 0 ? "line " + l.line() : key;
  }

  private void error(String key, String message) {
    SourceLocation l = locationOf(key);
    problems.add(new Problem(b.source, l.line(), l.column(), key, message, false));
  }

  private void warn(String key, String message) {
    SourceLocation l = locationOf(key);
    problems.add(new Problem(b.source, l.line(), l.column(), key, message, true));
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
