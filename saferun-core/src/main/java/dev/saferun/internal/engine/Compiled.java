package dev.saferun.internal.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.Pattern;
import dev.saferun.CallContext;
import dev.saferun.internal.json.ArgPath;
import dev.saferun.policy.Action;
import dev.saferun.policy.Condition;
import dev.saferun.policy.Counter;
import dev.saferun.policy.Mode;
import dev.saferun.policy.Op;
import dev.saferun.policy.Policy;
import dev.saferun.policy.Rule;
import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.CounterKey;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Policies compiled for evaluation: paths split, regexes compiled, messages and keys prepared. */
final class Compiled {
  private Compiled() {}

  static final class CPolicy {
    final Policy policy;
    final String name;
    final String version;
    final boolean shadow;
    final Map<String, CRule[]> tools = new HashMap<>();
    final CRule[] all;
    final List<ArgPath> redact = new ArrayList<>();
    final Set<String> hide;
    final boolean hideAll;
    final Map<String, CounterTpl> counters = new HashMap<>();
    final Map<String, dev.saferun.policy.ToolOptions> options = new HashMap<>();
    final dev.saferun.policy.ToolOptions unlistedOptions;
    /** {@code match:} as arrays, checked on every call without iterators. */
    private final String[] matchKeys;
    private final List<?>[] matchValues;

    CPolicy(Policy p) {
      this.policy = p;
      this.name = p.name();
      this.version = p.version();
      this.shadow = p.mode() == Mode.SHADOW;
      this.hide = new HashSet<>(p.hide());
      this.hideAll = hide.contains(Policy.ALL_TOOLS);
      for (String r : p.redact()) {
        redact.add(ArgPath.parse(r, r.substring(5)));
      }
      // counters first, so state. conditions anywhere can refer to them
      p.tools().forEach((tool, rules) -> defineCounters(rules));
      defineCounters(p.allToolsRules());
      p.tools().forEach((tool, rules) -> this.tools.put(tool, compile(tool, rules)));
      this.all = compile(Policy.ALL_TOOLS, p.allToolsRules());
      for (String tool : p.tools().keySet()) {
        options.put(tool, p.toolOptions(tool));
      }
      this.unlistedOptions = p.toolOptions("\u0000");
      this.matchKeys = p.match().keySet().toArray(new String[0]);
      this.matchValues = new List<?>[matchKeys.length];
      for (int i = 0; i < matchKeys.length; i++) {
        matchValues[i] = p.match().get(matchKeys[i]);
      }
    }

    /** {@link Policy#matches}, for the hot path. */
    boolean matches(Map<String, String> context) {
      for (int i = 0; i < matchKeys.length; i++) {
        String actual = context.get(matchKeys[i]);
        if (actual == null || !matchValues[i].contains(actual)) {
          return false;
        }
      }
      return true;
    }

    dev.saferun.policy.ToolOptions options(String tool) {
      dev.saferun.policy.ToolOptions o = options.get(tool);
      return o != null ? o : unlistedOptions;
    }

    private void defineCounters(List<Rule> rules) {
      for (Rule r : rules) {
        if (r.counter() != null) {
          counters.put(r.counter().qualifiedName(),
              new CounterTpl(r.counter(), shadow || r.isShadow()));
        }
      }
    }

    private CRule[] compile(String tool, List<Rule> rules) {
      CRule[] out = new CRule[rules.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = new CRule(this, tool, i, rules.get(i));
      }
      return out;
    }

    boolean hides(String tool) {
      return hideAll || hide.contains(tool)
          || (policy.hideUnlisted() && !policy.defaultAllow() && !tools.containsKey(tool));
    }
  }

  /** A counter's identity template; the key depends on the call's {@code per:} values. */
  static final class CounterTpl {
    final String qualifiedName;
    final Window window;
    final String[] per;
    final boolean shadow;
    private final CounterKey fixedKey;

    CounterTpl(Counter c, boolean shadow) {
      this.qualifiedName = c.qualifiedName();
      this.window = c.window();
      this.per = c.per().toArray(new String[0]);
      this.shadow = shadow;
      this.fixedKey = per.length == 0 ? CounterKey.of(qualifiedName, window, "", shadow) : null;
    }

    CounterKey key(CallContext ctx) {
      if (fixedKey != null) {
        return fixedKey;
      }
      return CounterKey.of(qualifiedName, window, perValues(per, ctx), shadow);
    }
  }

  /**
   * {@code attr=value&attr2=value2}; an absent attribute is written without '=' so calls that
   * lack it share one counter (more restrictive, never less).
   */
  static String perValues(String[] per, CallContext ctx) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < per.length; i++) {
      if (i > 0) {
        sb.append('&');
      }
      sb.append(per[i]);
      String v = ctx.get(per[i]);
      if (v != null) {
        sb.append('=');
        for (int j = 0; j < v.length(); j++) {
          char c = v.charAt(j);
          if (c == '&' || c == '=' || c == '%' || c == '|') {
            sb.append('%').append(String.format("%02X", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.toString();
  }

  static final class CRule {
    final CPolicy policy;
    final String toolList;
    final int index;
    final Rule rule;
    final String name;
    final Action action;
    final boolean shadow;
    final CCond[] conds;
    final CounterTpl counter;
    final BigDecimal fixedIncrement;
    final ArgPath incrementFrom;
    final String incrementFromText;
    final BigDecimal limit;
    final boolean inclusive;
    final BigDecimal perCall;
    final boolean spend;
    final Rule.Loop loop;
    final String loopScopeName;
    final Duration approvalTimeout;
    final String denyMessage;
    final String limitMessage;
    final String holdMessage;
    /** The charge of a counter whose key and increment never vary (no per, no amount): shared. */
    final Charge fixedCharge;

    CRule(CPolicy policy, String toolList, int index, Rule r) {
      this.policy = policy;
      this.toolList = toolList;
      this.index = index;
      this.rule = r;
      this.name = r.name();
      this.action = r.action();
      this.shadow = policy.shadow || r.isShadow();
      this.conds = new CCond[r.conditions().size()];
      for (int i = 0; i < conds.length; i++) {
        conds[i] = new CCond(r.conditions().get(i), policy);
      }
      this.counter = r.counter() == null ? null : policy.counters.get(r.counter().qualifiedName());
      this.limit = r.limit();
      this.inclusive = r.limitInclusive();
      this.spend = r.spend() != null;
      this.perCall = spend ? r.spend().perCall() : null;
      String from = r.spend() != null ? r.spend().amountFrom()
          : r.counter() != null ? r.counter().incrementFrom() : null;
      this.incrementFromText = from;
      this.incrementFrom = from == null ? null : ArgPath.parse(from, from.substring(5));
      this.fixedIncrement = r.counter() == null ? null : r.counter().increment();
      this.loop = r.loop();
      this.loopScopeName = loop == null ? null : "_loop_" + r.name();
      this.approvalTimeout = r.approvalTimeout();
      String onDeny = r.onDeny();
      this.denyMessage = onDeny != null ? onDeny : "Denied by rule \"" + name + "\"";
      String lm;
      if (onDeny != null) {
        lm = onDeny;
      } else if (r.rateLimit() != null) {
        lm = r.rateLimit().defaultMessage();
      } else if (r.spend() != null && r.spend().daily() != null) {
        lm = "Daily spend limit of " + r.spend().daily().toPlainString() + " reached";
      } else {
        lm = "Limit of rule \"" + name + "\" reached";
      }
      this.limitMessage = lm;
      this.holdMessage = onDeny != null ? onDeny : "Approval required by rule \"" + name + "\"";
      this.fixedCharge = counter != null && counter.fixedKey != null && incrementFrom == null
          && !spend && fixedIncrement != null
          ? new Charge(counter.fixedKey, fixedIncrement, limit, inclusive) : null;
    }

    boolean hasCounterWork() {
      return counter != null || loop != null || spend;
    }

    String perCallMessage(BigDecimal amount) {
      return rule.onDeny() != null ? rule.onDeny()
          : "Spend of " + amount.toPlainString() + " exceeds the per-call limit of "
              + perCall.toPlainString();
    }

    String loopMessage(String tool, long attempts) {
      return rule.onDeny() != null ? rule.onDeny()
          : "Loop detected: " + tool + " called with identical arguments " + attempts
              + " times within " + loop.window().text();
    }
  }

  static final int ARGS = 0;
  static final int CONTEXT = 1;
  static final int STATE = 2;

  static final class CCond {
    final Condition condition;
    final int source;
    final ArgPath argPath;
    final String contextKey;
    final CounterTpl counter;
    final Op op;
    final Object value;
    final Pattern regex;
    final boolean valueIsLong;
    final long valueLong;
    final Object[] list;

    CCond(Condition c, CPolicy policy) {
      this.condition = c;
      String p = c.path();
      if (p.startsWith("args.")) {
        source = ARGS;
        argPath = ArgPath.parse(p, p.substring(5));
        contextKey = null;
        counter = null;
      } else if (p.startsWith("context.")) {
        source = CONTEXT;
        argPath = null;
        contextKey = p.substring(8);
        counter = null;
      } else {
        source = STATE;
        argPath = null;
        contextKey = null;
        counter = policy.counters.get(p.substring(6));
        if (counter == null) {
          throw new IllegalStateException("no counter " + p + " in policy " + policy.name);
        }
      }
      this.op = c.op();
      this.value = c.value();
      this.regex = op == Op.REGEX ? Pattern.compile((String) value) : null;
      long l = 0;
      boolean isLong = false;
      if (value instanceof BigDecimal) {
        BigDecimal d = (BigDecimal) value;
        try {
          l = d.longValueExact();
          isLong = true;
        } catch (ArithmeticException e) {
          isLong = false;
        }
      }
      this.valueIsLong = isLong;
      this.valueLong = l;
      this.list = value instanceof List ? ((List<?>) value).toArray() : null;
    }
  }

  // ------------------------------------------------------------------ comparisons

  /** Whether a resolved value (JsonNode, String or BigDecimal; never null) equals a scalar. */
  static boolean eq(Object actual, Object expected) {
    if (actual instanceof JsonNode) {
      JsonNode n = (JsonNode) actual;
      if (expected instanceof String) {
        return n.isTextual() && n.textValue().equals(expected);
      }
      if (expected instanceof BigDecimal) {
        return n.isNumber() && compareNumber(n, (BigDecimal) expected, false, 0) == 0;
      }
      if (expected instanceof Boolean) {
        return n.isBoolean() && n.booleanValue() == (Boolean) expected;
      }
      return false;
    }
    if (actual instanceof String) {
      return actual.equals(expected);
    }
    if (actual instanceof BigDecimal) {
      return expected instanceof BigDecimal
          && ((BigDecimal) actual).compareTo((BigDecimal) expected) == 0;
    }
    return false;
  }

  static int compareNumber(JsonNode n, BigDecimal expected, boolean expectedIsLong, long el) {
    if (expectedIsLong && (n.isInt() || n.isLong())) {
      return Long.compare(n.longValue(), el);
    }
    return n.decimalValue().compareTo(expected);
  }

  /** Whether the value is a number; if so, compares it. Returns null for a non-number. */
  static Integer compare(Object actual, CCond c) {
    if (actual instanceof JsonNode) {
      JsonNode n = (JsonNode) actual;
      if (!n.isNumber()) {
        return null;
      }
      return compareNumber(n, (BigDecimal) c.value, c.valueIsLong, c.valueLong);
    }
    if (actual instanceof BigDecimal) {
      return ((BigDecimal) actual).compareTo((BigDecimal) c.value);
    }
    return null;
  }

  static String text(Object actual) {
    if (actual instanceof String) {
      return (String) actual;
    }
    if (actual instanceof JsonNode && ((JsonNode) actual).isTextual()) {
      return ((JsonNode) actual).textValue();
    }
    return null;
  }

  /** Evaluates an operator on a resolved value ({@code null} = missing). */
  static boolean test(CCond c, Object actual) {
    Op op = c.op;
    if (op == Op.EXISTS) {
      return (actual != null) == (Boolean) c.value;
    }
    if (actual == null) {
      return false;
    }
    switch (op) {
      case EQ:
        return eq(actual, c.value);
      case NEQ:
        return !eq(actual, c.value);
      case IN:
        for (Object o : c.list) {
          if (eq(actual, o)) {
            return true;
          }
        }
        return false;
      case NOT_IN:
        for (Object o : c.list) {
          if (eq(actual, o)) {
            return false;
          }
        }
        return true;
      case LT: {
        Integer cmp = compare(actual, c);
        return cmp != null && cmp < 0;
      }
      case LTE: {
        Integer cmp = compare(actual, c);
        return cmp != null && cmp <= 0;
      }
      case GT: {
        Integer cmp = compare(actual, c);
        return cmp != null && cmp > 0;
      }
      case GTE: {
        Integer cmp = compare(actual, c);
        return cmp != null && cmp >= 0;
      }
      case REGEX: {
        String s = text(actual);
        return s != null && c.regex.matcher(s).find();
      }
      case CONTAINS: {
        if (actual instanceof JsonNode && ((JsonNode) actual).isArray()) {
          for (JsonNode e : (JsonNode) actual) {
            if (!e.isNull() && eq(e, c.value)) {
              return true;
            }
          }
          return false;
        }
        String s = text(actual);
        return s != null && c.value instanceof String && s.contains((String) c.value);
      }
      default:
        throw new AssertionError(op);
    }
  }

  /** A short rendering of a resolved value for traces. */
  static String show(Object actual) {
    if (actual == null) {
      return "missing";
    }
    if (actual instanceof BigDecimal) {
      return ((BigDecimal) actual).toPlainString();
    }
    if (actual instanceof String) {
      return "\"" + actual + "\"";
    }
    String s = actual.toString();
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }
}
