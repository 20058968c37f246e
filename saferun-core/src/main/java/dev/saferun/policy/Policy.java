package dev.saferun.policy;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One validated policy (SPEC §1): defaults, scoping, hidden tools and each tool's ordered rules.
 * Built from YAML by {@link PolicyLoader} or in Java by {@link #builder(String)}; both go through
 * the same validator, so a policy that exists is a valid one.
 *
 * <p>Immutable and thread-safe.
 */
public final class Policy {
  /** The name of the rule list applied to every tool. */
  public static final String ALL_TOOLS = "*";
  /** The counter scope of {@code "*"} rules. */
  public static final String GLOBAL_SCOPE = "_global";

  private final String name;
  private final String description;
  private final String version;
  private final String source;
  private final boolean defaultAllow;
  private final Mode mode;
  private final Map<String, List<String>> match;
  private final List<String> hide;
  private final boolean hideUnlisted;
  private final List<String> redact;
  private final Approvals approvals;
  private final Map<String, List<Rule>> tools;
  private final List<Rule> allToolsRules;
  private final List<String> warnings;
  private final Map<String, ToolOptions> toolOptions;
  private final ToolOptions.SchemaMode schemaDefault;

  Policy(String name, String description, String version, String source, boolean defaultAllow,
      Mode mode, Map<String, List<String>> match, List<String> hide, boolean hideUnlisted,
      List<String> redact, Approvals approvals, Map<String, List<Rule>> tools,
      List<Rule> allToolsRules, List<String> warnings, Map<String, ToolOptions> toolOptions,
      ToolOptions.SchemaMode schemaDefault) {
    this.name = name;
    this.description = description;
    this.version = version;
    this.source = source;
    this.defaultAllow = defaultAllow;
    this.mode = mode;
    this.match = match;
    this.hide = hide;
    this.hideUnlisted = hideUnlisted;
    this.redact = redact;
    this.approvals = approvals;
    this.tools = tools;
    this.allToolsRules = allToolsRules;
    this.warnings = warnings;
    this.toolOptions = toolOptions;
    this.schemaDefault = schemaDefault;
  }

  /** Starts a policy in Java. Validation happens in {@link Builder#build()}. */
  public static Builder builder(String name) {
    return new Builder().name(name);
  }

  public String name() {
    return name;
  }

  /** The description, or {@code null}. */
  public String description() {
    return description;
  }

  /** sha-256 (hex) of the policy file's bytes, or of a canonical rendering for Java-built ones. */
  public String version() {
    return version;
  }

  /** Where the policy came from: a file path or a label. */
  public String source() {
    return source;
  }

  /** {@code true} for {@code default: allow}. */
  public boolean defaultAllow() {
    return defaultAllow;
  }

  public Mode mode() {
    return mode;
  }

  /** {@code match:} attributes; empty means the policy governs every call. */
  public Map<String, List<String>> match() {
    return match;
  }

  /** Tools hidden by {@code hide:}; may contain {@code "*"}. */
  public List<String> hide() {
    return hide;
  }

  public boolean hideUnlisted() {
    return hideUnlisted;
  }

  /** Argument paths masked in audit records, logs and notifications. */
  public List<String> redact() {
    return redact;
  }

  public Approvals approvals() {
    return approvals;
  }

  /** The listed tools and their rules, in file order (without {@code "*"}). */
  public Map<String, List<Rule>> tools() {
    return tools;
  }

  /** The {@code "*"} rules, applied to every call after the tool's own rules. */
  public List<Rule> allToolsRules() {
    return allToolsRules;
  }

  /**
   * The options of a tool (its own entry over the {@code "*"} entry, schema mode over the
   * policy's {@code schema:} default); {@link ToolOptions#NONE} when there are none.
   */
  public ToolOptions toolOptions(String tool) {
    ToolOptions own = toolOptions.get(tool);
    ToolOptions all = toolOptions.get(ALL_TOOLS);
    ToolOptions merged = own == null ? (all == null ? ToolOptions.NONE : all) : own.orElse(all);
    if (merged.schema() == null && schemaDefault != null) {
      merged = new ToolOptions(schemaDefault, merged.breaker(), merged.result());
    }
    return merged;
  }

  /** The policy-level {@code schema:} default, or {@code null}. */
  public ToolOptions.SchemaMode schemaDefault() {
    return schemaDefault;
  }

  /** Warnings found while validating (rules that can never pass, unreachable rules…). */
  public List<String> warnings() {
    return warnings;
  }

  /** Whether the policy's {@code match} holds for a context. */
  public boolean matches(Map<String, String> context) {
    for (Map.Entry<String, List<String>> e : match.entrySet()) {
      String actual = context.get(e.getKey());
      if (actual == null || !e.getValue().contains(actual)) {
        return false;
      }
    }
    return true;
  }

  /** Whether a tool is hidden from the model and denied (SPEC §1 {@code hide}, {@code hide_unlisted}). */
  public boolean hides(String tool) {
    if (hide.contains(ALL_TOOLS) || hide.contains(tool)) {
      return true;
    }
    return hideUnlisted && !defaultAllow && !tools.containsKey(tool);
  }

  @Override
  public String toString() {
    return "Policy[" + name + " " + (version.length() > 12 ? version.substring(0, 12) : version)
        + "]";
  }

  /**
   * {@code approvals:} settings.
   *
   * @param defaultTimeout how long a hold waits for a human
   * @param waitMode {@code true} for {@code wait}, {@code false} for {@code defer}
   */
  public record Approvals(Duration defaultTimeout, boolean waitMode) {
    public static final Approvals DEFAULT = new Approvals(Duration.ofMinutes(15), true);
  }

  /**
   * Collects a policy's settings as written (strings, numbers, lists) and validates them all at
   * {@link #build()}, reporting every problem at once. Not thread-safe; build once, share the
   * {@link Policy}.
   */
  public static final class Builder {
    Object version = "1";
    String name;
    String description;
    Object defaultDecision;
    Object mode;
    final Map<String, List<Object>> match = new LinkedHashMap<>();
    final List<Object> hide = new ArrayList<>();
    Object hideUnlisted;
    final List<Object> redact = new ArrayList<>();
    Object approvalTimeout;
    Object approvalOnTimeout;
    Object approvalMode;
    Object schema;
    final Map<String, ToolBuilder> tools = new LinkedHashMap<>();
    String source = "<java>";
    byte[] sourceBytes;
    final Map<String, SourceLocation> locations = new LinkedHashMap<>();
    final List<dev.saferun.PolicyConfigException.Problem> loaderProblems = new ArrayList<>();

    Builder() {}

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder description(String description) {
      this.description = description;
      return this;
    }

    /** {@code "allow"} or {@code "deny"}; deny when not set. */
    public Builder defaultDecision(String allowOrDeny) {
      this.defaultDecision = allowOrDeny;
      return this;
    }

    /** {@code "enforce"} or {@code "shadow"}. */
    public Builder mode(String mode) {
      this.mode = mode;
      return this;
    }

    /** Adds a {@code match:} attribute: the policy governs calls whose attribute is one of values. */
    public Builder match(String attribute, String... values) {
      match.computeIfAbsent(attribute, k -> new ArrayList<>()).addAll(Arrays.asList(values));
      return this;
    }

    /** Hides tools ({@code "*"} hides all). */
    public Builder hide(String... tools) {
      hide.addAll(Arrays.asList(tools));
      return this;
    }

    public Builder hideUnlisted(boolean hideUnlisted) {
      this.hideUnlisted = hideUnlisted;
      return this;
    }

    /** Argument paths ({@code args.…}) to mask in logs, audit and notifications. */
    public Builder redact(String... paths) {
      redact.addAll(Arrays.asList(paths));
      return this;
    }

    /** Approval defaults: timeout as a duration ({@code 15m}) and mode {@code wait|defer}. */
    public Builder approvals(String defaultTimeout, String mode) {
      this.approvalTimeout = defaultTimeout;
      this.approvalMode = mode;
      return this;
    }

    /** Policy-wide argument schema checking: {@code "strict"} or {@code "off"}. */
    public Builder schema(String mode) {
      this.schema = mode;
      return this;
    }

    /** Lists a tool with the rules the consumer adds ({@code "*"} for rules on every tool). */
    public Builder tool(String tool, Consumer<ToolBuilder> rules) {
      ToolBuilder tb = tools.computeIfAbsent(tool, ToolBuilder::new);
      rules.accept(tb);
      return this;
    }

    /** Lists a tool with no rules of its own (allowed, subject to {@code "*"} rules). */
    public Builder tool(String tool) {
      tools.computeIfAbsent(tool, ToolBuilder::new);
      return this;
    }

    /** A label for error messages (a file name for loaded policies). */
    public Builder source(String source) {
      this.source = Objects.requireNonNull(source, "source");
      return this;
    }

    /**
     * Validates everything and returns the policy.
     *
     * @throws dev.saferun.PolicyConfigException listing every problem, each with its location
     */
    public Policy build() {
      return new PolicyValidator(this).validate();
    }
  }

  /** The rules of one tool, being built. Not thread-safe. */
  public static final class ToolBuilder {
    final String tool;
    final List<RuleBuilder> rules = new ArrayList<>();
    boolean rulesGiven;
    Object schema;
    Map<String, Object> breaker;
    Map<String, Object> result;

    ToolBuilder(String tool) {
      this.tool = tool;
    }

    /** {@code schema: strict|off} for this tool. */
    public ToolBuilder schema(String mode) {
      this.schema = mode;
      return this;
    }

    /** An error breaker: open after {@code failures} within {@code window}, probe after cooldown. */
    public ToolBuilder breaker(int failures, String window, String cooldown) {
      breaker = new LinkedHashMap<>();
      breaker.put("failures", BigDecimal.valueOf(failures));
      breaker.put("window", window);
      breaker.put("cooldown", cooldown);
      return this;
    }

    /** Result controls: maximum characters (or null) and RE2 patterns masked with {@code ***}. */
    public ToolBuilder result(Integer maxChars, String... redactPatterns) {
      result = new LinkedHashMap<>();
      if (maxChars != null) {
        result.put("max_chars", BigDecimal.valueOf(maxChars));
      }
      if (redactPatterns.length > 0) {
        result.put("redact", new ArrayList<Object>(Arrays.asList(redactPatterns)));
      }
      return this;
    }

    /** Adds a rule, configured by the consumer. */
    public ToolBuilder rule(String name, Consumer<RuleBuilder> config) {
      RuleBuilder rb = new RuleBuilder(name);
      config.accept(rb);
      rules.add(rb);
      return this;
    }

    RuleBuilder addRule() {
      RuleBuilder rb = new RuleBuilder(null);
      rules.add(rb);
      return rb;
    }
  }

  /** One rule, being built. Values are checked at {@link Builder#build()}. Not thread-safe. */
  public static final class RuleBuilder {
    String name;
    Object action;
    final List<Object[]> conditions = new ArrayList<>();
    Object onDeny;
    Map<String, Object> state;
    Object rateLimit;
    Map<String, Object> spend;
    Map<String, Object> loop;
    Object approvalTimeout;
    Object mode;

    RuleBuilder(String name) {
      this.name = name;
    }

    /** {@code evaluate} (default), {@code deny} or {@code require_approval}. */
    public RuleBuilder action(String action) {
      this.action = action;
      return this;
    }

    /** Shorthand for {@code action("deny")}. */
    public RuleBuilder deny() {
      return action("deny");
    }

    /** Shorthand for {@code action("require_approval")}. */
    public RuleBuilder requireApproval() {
      return action("require_approval");
    }

    /**
     * Adds a condition. {@code value} is a String, Number, Boolean or a List of those.
     * Example: {@code when("args.amount", "lte", 5000)}.
     */
    public RuleBuilder when(String path, String op, Object value) {
      conditions.add(new Object[] {path, op, toRaw(value)});
      return this;
    }

    public RuleBuilder onDeny(String message) {
      this.onDeny = message;
      return this;
    }

    /** {@code state:} with a fixed increment of 1. */
    public RuleBuilder state(String counter, String window, String... per) {
      return state(counter, window, 1, null, per);
    }

    /** {@code state:} with the increment taken from an argument path. */
    public RuleBuilder stateFrom(String counter, String window, String incrementFrom,
        String... per) {
      return state(counter, window, null, incrementFrom, per);
    }

    private RuleBuilder state(String counter, String window, Object increment,
        String incrementFrom, String... per) {
      state = new LinkedHashMap<>();
      state.put("counter", counter);
      state.put("window", window);
      if (increment != null) {
        state.put("increment", toRaw(increment));
      }
      if (incrementFrom != null) {
        state.put("increment_from", incrementFrom);
      }
      if (per.length > 0) {
        state.put("per", new ArrayList<Object>(Arrays.asList(per)));
      }
      return this;
    }

    /** {@code rate_limit: N/window}, optionally split {@code per} context attributes. */
    public RuleBuilder rateLimit(String limitPerWindow, String... per) {
      if (per.length == 0) {
        rateLimit = limitPerWindow;
      } else {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("limit", limitPerWindow);
        m.put("per", new ArrayList<Object>(Arrays.asList(per)));
        rateLimit = m;
      }
      return this;
    }

    /** {@code spend:}; pass {@code null} for what is not set. */
    public RuleBuilder spend(Number perCall, Number daily, String amountFrom) {
      spend = new LinkedHashMap<>();
      if (perCall != null) {
        spend.put("per_call", toRaw(perCall));
      }
      if (daily != null) {
        spend.put("daily", toRaw(daily));
      }
      if (amountFrom != null) {
        spend.put("amount_from", amountFrom);
      }
      return this;
    }

    /** {@code loop: {max_repeats, window}}. */
    public RuleBuilder loop(int maxRepeats, String window) {
      loop = new LinkedHashMap<>();
      loop.put("max_repeats", BigDecimal.valueOf(maxRepeats));
      loop.put("window", window);
      return this;
    }

    /** For {@code require_approval}: how long the hold waits, as a duration ({@code 30m}). */
    public RuleBuilder approvalTimeout(String duration) {
      this.approvalTimeout = duration;
      return this;
    }

    /** {@code enforce} or {@code shadow}. */
    public RuleBuilder mode(String mode) {
      this.mode = mode;
      return this;
    }

    static Object toRaw(Object value) {
      if (value instanceof BigDecimal || value instanceof String || value instanceof Boolean
          || value == null) {
        return value;
      }
      if (value instanceof Double || value instanceof Float) {
        double d = ((Number) value).doubleValue();
        if (Double.isNaN(d) || Double.isInfinite(d)) {
          return value;
        }
        return new BigDecimal(Double.toString(d));
      }
      if (value instanceof Number) {
        return new BigDecimal(value.toString());
      }
      if (value instanceof List) {
        List<Object> out = new ArrayList<>();
        for (Object o : (List<?>) value) {
          out.add(toRaw(o));
        }
        return out;
      }
      return value;
    }
  }
}
