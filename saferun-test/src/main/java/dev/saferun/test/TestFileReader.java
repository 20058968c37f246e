package dev.saferun.test;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import dev.saferun.CallContext;
import dev.saferun.Decision.Outcome;
import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.SafeRun;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.policy.SourceLocation;
import dev.saferun.policy.YamlDocument;
import dev.saferun.policy.YamlDocument.Entry;
import dev.saferun.policy.YamlDocument.YList;
import dev.saferun.policy.YamlDocument.YMap;
import dev.saferun.policy.YamlDocument.YNode;
import dev.saferun.policy.YamlDocument.YScalar;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a policy test file (SPEC §10) from its located YAML tree. Collects every problem with its
 * {@code file:line:col} before failing, like the policy loader; unknown keys are errors.
 */
final class TestFileReader {
  static final List<String> TOP_KEYS = List.of("policy", "clock", "context", "prices", "cases");
  static final List<String> CASE_KEYS = List.of("name", "call", "args", "args_json", "context",
      "repeat", "expect", "approval", "tools", "expect_visible", "advance");
  static final List<String> EXPECT_KEYS = List.of("decision", "rule", "policy", "message",
      "message_contains", "shadow");
  static final List<String> SHADOW_KEYS = List.of("decision", "rule", "policy", "message",
      "message_contains");
  static final List<String> APPROVAL_KEYS = List.of("approve", "args", "by");
  static final List<String> OUTCOMES = List.of("allow", "deny", "hold");
  /** The most calls one case may make with {@code repeat}. */
  static final int MAX_REPEAT = 1_000_000;

  private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");
  private static final JsonFactory JSON = JsonFactory.builder()
      .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
      .build();

  private final String source;
  private final Path baseDir;
  private final List<Problem> problems = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();

  private TestFileReader(String source, Path baseDir) {
    this.source = source;
    this.baseDir = baseDir;
  }

  static PolicyTestFile read(String text, String source, Path baseDir) {
    return new TestFileReader(source, baseDir).read(text);
  }

  private PolicyTestFile read(String text) {
    YNode root = YamlDocument.parse(text, source);
    if (!(root instanceof YMap)) {
      error(root.location(), "", "a policy test file must be a mapping with 'policy' and 'cases'"
          + " (got " + kind(root) + ")");
      throw failure();
    }
    YMap top = (YMap) root;
    checkKeys(top, "", TOP_KEYS);

    List<Policy> policies = new ArrayList<>();
    YNode policyNode = top.get("policy");
    if (policyNode == null) {
      error(top.location(), "policy", "missing required key 'policy' (a policy file path, an"
          + " inline policy or a list of either)");
    } else {
      policies(policyNode, policies);
    }

    Instant start = FakeClock.DEFAULT_START;
    if (top.get("clock") != null) {
      Instant parsed = instant(top.get("clock"), "clock");
      if (parsed != null) {
        start = parsed;
      }
    }
    CallContext context = top.get("context") == null ? CallContext.empty()
        : context(top.get("context"), "context");
    Map<String, BigDecimal> prices = top.get("prices") == null ? Map.of()
        : prices(top.get("prices"));

    PolicySet set = null;
    if (!policies.isEmpty() && errorCount() == 0) {
      set = PolicySet.of(policies);
      try {
        // Validates prices against spend rules now, so a missing price is a load error.
        SafeRun.builder().policies(set).prices(prices).clock(new FakeClock(start))
            .auditSink(AuditSink.NONE).build();
      } catch (PolicyConfigException e) {
        problems.addAll(e.problems());
      }
    }

    List<Step> steps = new ArrayList<>();
    YNode casesNode = top.get("cases");
    if (casesNode == null) {
      error(top.location(), "cases", "missing required key 'cases' (a list of test cases)");
    } else if (!(casesNode instanceof YList)) {
      error(casesNode.location(), "cases", "cases must be a list, got " + kind(casesNode));
    } else {
      List<YNode> items = ((YList) casesNode).items();
      if (items.isEmpty()) {
        error(casesNode.location(), "cases", "cases is empty: a test file needs at least one case");
      }
      for (int i = 0; i < items.size(); i++) {
        Step s = step(items.get(i), "cases[" + i + "]", context);
        if (s != null) {
          steps.add(s);
        }
      }
      if (errorCount() == 0 && steps.stream().noneMatch(s -> !(s instanceof Step.Advance))) {
        error(casesNode.location(), "cases", "cases has only advance steps: nothing is tested");
      }
    }
    if (errorCount() > 0) {
      throw failure();
    }
    for (Policy p : policies) {
      warnings.addAll(p.warnings());
    }
    return new PolicyTestFile(source, set, start, context, prices, steps, warnings);
  }

  // ------------------------------------------------------------------ policy

  private void policies(YNode node, List<Policy> out) {
    if (node instanceof YList) {
      List<YNode> items = ((YList) node).items();
      if (items.isEmpty()) {
        error(node.location(), "policy", "policy is an empty list: give at least one policy");
      }
      for (int i = 0; i < items.size(); i++) {
        YNode item = items.get(i);
        if (item instanceof YList) {
          error(item.location(), "policy[" + i + "]", "a policy set lists policy file paths or"
              + " inline policies, not nested lists");
          continue;
        }
        Policy p = policy(item, "policy[" + i + "]", i + 1);
        if (p != null) {
          out.add(p);
        }
      }
      return;
    }
    Policy p = policy(node, "policy", 0);
    if (p != null) {
      out.add(p);
    }
  }

  private Policy policy(YNode node, String at, int ordinal) {
    if (node instanceof YMap) {
      String base = baseName(source);
      String name = ordinal == 0 ? base : base + "#" + ordinal;
      try {
        return PolicyLoader.fromNode(node, source, canonicalBytes(node), name);
      } catch (PolicyConfigException e) {
        problems.addAll(e.problems());
        return null;
      }
    }
    if (node instanceof YScalar && ((YScalar) node).value() instanceof String) {
      String rel = (String) ((YScalar) node).value();
      Path file = baseDir.resolve(rel).normalize();
      if (!Files.isRegularFile(file)) {
        error(node.location(), at, "policy file '" + rel + "' not found (looked for " + file
            + ")");
        return null;
      }
      try {
        return PolicyLoader.load(file);
      } catch (PolicyConfigException e) {
        problems.addAll(e.problems());
        return null;
      }
    }
    error(node.location(), at, "policy must be a file path, an inline policy mapping or a list"
        + " of either, got " + kind(node));
    return null;
  }

  /** An inline policy's version: sha-256 of its content as canonical JSON, so it is stable. */
  private static byte[] canonicalBytes(YNode node) {
    return json(node).getBytes(StandardCharsets.UTF_8);
  }

  private static String baseName(String source) {
    Path fn = Path.of(source).getFileName();
    String n = fn == null ? source : fn.toString();
    if (n.endsWith(PolicyTestFile.SUFFIX)) {
      return n.substring(0, n.length() - PolicyTestFile.SUFFIX.length());
    }
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }

  // ------------------------------------------------------------------ settings

  private Instant instant(YNode node, String at) {
    Object v = node instanceof YScalar ? ((YScalar) node).value() : null;
    if (v instanceof String) {
      try {
        return Instant.parse((String) v);
      } catch (DateTimeParseException e) {
        // reported below
      }
    }
    error(node.location(), at, at + " must be an instant like 2026-01-15T10:30:00Z, got "
        + kind(node));
    return null;
  }

  private CallContext context(YNode node, String at) {
    if (!(node instanceof YMap)) {
      error(node.location(), at, at + " must map attribute names to text, e.g. {agent: support},"
          + " got " + kind(node));
      return CallContext.empty();
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    for (Entry e : ((YMap) node).entries()) {
      String value = scalarText(e.value());
      if (value == null) {
        error(e.value().location(), at + "." + e.key(), "context attribute '" + e.key()
            + "' must be text, got " + kind(e.value()));
      } else {
        attrs.put(e.key(), value);
      }
    }
    return CallContext.of(attrs);
  }

  private Map<String, BigDecimal> prices(YNode node) {
    if (!(node instanceof YMap)) {
      error(node.location(), "prices", "prices must map tool names to amounts, e.g."
          + " {generate_image: 0.04}, got " + kind(node));
      return Map.of();
    }
    Map<String, BigDecimal> prices = new LinkedHashMap<>();
    for (Entry e : ((YMap) node).entries()) {
      Object v = e.value() instanceof YScalar ? ((YScalar) e.value()).value() : null;
      if (!(v instanceof BigDecimal) || ((BigDecimal) v).signum() < 0) {
        error(e.value().location(), "prices." + e.key(), "price of '" + e.key()
            + "' must be a number >= 0, got " + kind(e.value()));
      } else {
        prices.put(e.key(), (BigDecimal) v);
      }
    }
    return prices;
  }

  // ------------------------------------------------------------------ cases

  private Step step(YNode node, String at, CallContext defaults) {
    if (!(node instanceof YMap)) {
      error(node.location(), at, "a case must be a mapping with name, call, args and expect (or"
          + " an 'advance' step), got " + kind(node));
      return null;
    }
    YMap m = (YMap) node;
    checkKeys(m, at, CASE_KEYS);
    if (m.get("advance") != null) {
      return advance(m, at);
    }
    String name = null;
    YNode nameNode = m.get("name");
    if (nameNode == null) {
      error(m.location(), at, "case needs a 'name'");
    } else {
      name = scalarText(nameNode);
      if (name == null || name.isBlank()) {
        error(nameNode.location(), at + ".name", "case name must be non-empty text, got "
            + kind(nameNode));
      }
    }
    CallContext context = defaults;
    if (m.get("context") != null) {
      context = defaults.merge(context(m.get("context"), at + ".context"));
    }
    PolicyTestFile.Case info = new PolicyTestFile.Case(name, m.location());
    if (m.get("tools") != null || m.get("expect_visible") != null) {
      return visible(m, at, info, context);
    }
    return call(m, at, info, context);
  }

  private Step advance(YMap m, String at) {
    for (Entry e : m.entries()) {
      if (!e.key().equals("advance") && !e.key().equals("name") && CASE_KEYS.contains(e.key())) {
        error(e.keyLocation(), at + "." + e.key(), "an advance step moves the clock only: it"
            + " takes no '" + e.key() + "' (put the call in a case of its own)");
      }
    }
    YNode v = m.get("advance");
    Duration d = duration(v);
    if (d == null) {
      error(v.location(), at + ".advance", "advance must be a duration like 90s, 15m, 24h or 7d"
          + " (units ms, s, m, h, d), got " + kind(v));
      return null;
    }
    return new Step.Advance(d, m.location());
  }

  static Duration duration(YNode v) {
    Object o = v instanceof YScalar ? ((YScalar) v).value() : null;
    if (!(o instanceof String)) {
      return null;
    }
    Matcher mt = DURATION.matcher((String) o);
    if (!mt.matches()) {
      return null;
    }
    long n = Long.parseLong(mt.group(1));
    switch (mt.group(2)) {
      case "ms":
        return Duration.ofMillis(n);
      case "s":
        return Duration.ofSeconds(n);
      case "m":
        return Duration.ofMinutes(n);
      case "h":
        return Duration.ofHours(n);
      default:
        return Duration.ofDays(n);
    }
  }

  private Step visible(YMap m, String at, PolicyTestFile.Case info, CallContext context) {
    for (String k : List.of("call", "args", "args_json", "repeat", "expect", "approval")) {
      if (m.get(k) != null) {
        error(m.entry(k).keyLocation(), at + "." + k, "a case with tools/expect_visible checks"
            + " what the model sees and makes no call: remove '" + k + "' or split the case");
      }
    }
    List<String> tools = null;
    List<String> expected = null;
    if (m.get("tools") == null) {
      error(m.location(), at + ".tools", "expect_visible needs 'tools' (the tools offered)");
    } else {
      tools = textList(m.get("tools"), at + ".tools");
    }
    if (m.get("expect_visible") == null) {
      error(m.location(), at + ".expect_visible", "tools needs 'expect_visible' (the tools the"
          + " model should see)");
    } else {
      expected = textList(m.get("expect_visible"), at + ".expect_visible");
    }
    if (tools == null || expected == null || info.name() == null) {
      return null;
    }
    return new Step.Visible(info, tools, context, expected);
  }

  private Step call(YMap m, String at, PolicyTestFile.Case info, CallContext context) {
    String tool = null;
    YNode callNode = m.get("call");
    if (callNode == null) {
      error(m.location(), at, "case needs 'call' (a tool name) and 'expect', or 'tools' and"
          + " 'expect_visible', or is an 'advance' step");
    } else {
      tool = scalarText(callNode);
      if (tool == null || tool.isEmpty()) {
        error(callNode.location(), at + ".call", "call must be a tool name, got "
            + kind(callNode));
      }
    }
    String arguments = null;
    if (m.get("args") != null && m.get("args_json") != null) {
      error(m.entry("args_json").keyLocation(), at + ".args_json", "use args or args_json, not"
          + " both");
    } else if (m.get("args") != null) {
      arguments = json(m.get("args"));
    } else if (m.get("args_json") != null) {
      YNode raw = m.get("args_json");
      Object v = raw instanceof YScalar ? ((YScalar) raw).value() : null;
      if (v instanceof String) {
        arguments = (String) v;
      } else {
        error(raw.location(), at + ".args_json", "args_json must be the raw argument text (a"
            + " quoted string), got " + kind(raw));
      }
    }
    int repeat = 1;
    YNode rep = m.get("repeat");
    if (rep != null) {
      Object v = rep instanceof YScalar ? ((YScalar) rep).value() : null;
      BigDecimal n = v instanceof BigDecimal ? (BigDecimal) v : null;
      if (n == null || n.stripTrailingZeros().scale() > 0 || n.signum() <= 0
          || n.compareTo(BigDecimal.valueOf(MAX_REPEAT)) > 0) {
        error(rep.location(), at + ".repeat", "repeat must be a whole number from 1 to "
            + MAX_REPEAT + ", got " + kind(rep));
      } else {
        repeat = n.intValueExact();
      }
    }
    Expectation expect = null;
    YNode ex = m.get("expect");
    if (ex == null) {
      if (callNode != null) {
        error(m.location(), at + ".expect", "case '" + info.name() + "' needs 'expect' (allow,"
            + " deny, hold or a mapping with decision, rule, message…)");
      }
    } else {
      expect = expectation(ex, at + ".expect", EXPECT_KEYS);
    }
    Step.Approval approval = null;
    if (m.get("approval") != null) {
      approval = approval(m.get("approval"), at + ".approval");
    }
    if (tool == null || expect == null || info.name() == null) {
      return null;
    }
    return new Step.Call(info, tool, arguments, context, repeat, expect, approval);
  }

  private Expectation expectation(YNode node, String at, List<String> keys) {
    if (node instanceof YScalar) {
      Outcome o = outcome(node, at);
      return o == null ? null : Expectation.of(o);
    }
    if (!(node instanceof YMap)) {
      error(node.location(), at, at + " must be allow, deny, hold or a mapping with decision,"
          + " rule, message…, got " + kind(node));
      return null;
    }
    YMap m = (YMap) node;
    checkKeys(m, at, keys);
    Outcome decision = null;
    if (m.get("decision") == null) {
      error(m.location(), at + ".decision", at + " needs 'decision' (allow, deny or hold)");
    } else {
      decision = outcome(m.get("decision"), at + ".decision");
    }
    boolean checksRule = m.entry("rule") != null;
    String rule = checksRule ? optionalText(m.get("rule"), at + ".rule") : null;
    boolean checksPolicy = m.entry("policy") != null;
    String policy = checksPolicy ? optionalText(m.get("policy"), at + ".policy") : null;
    String message = m.get("message") == null ? null : text(m.get("message"), at + ".message");
    String contains = m.get("message_contains") == null ? null
        : text(m.get("message_contains"), at + ".message_contains");
    boolean checksShadow = keys.contains("shadow") && m.entry("shadow") != null;
    Expectation shadow = null;
    if (checksShadow) {
      YNode s = m.get("shadow");
      boolean none = s instanceof YScalar && (((YScalar) s).value() == null
          || "none".equals(((YScalar) s).value()));
      if (!none) {
        shadow = expectation(s, at + ".shadow", SHADOW_KEYS);
        if (shadow == null) {
          return null;
        }
      }
    }
    if (decision == null) {
      return null;
    }
    return new Expectation(decision, checksRule, rule, checksPolicy, policy, message, contains,
        checksShadow, shadow);
  }

  private Outcome outcome(YNode node, String at) {
    Object v = node instanceof YScalar ? ((YScalar) node).value() : null;
    if (v instanceof String && OUTCOMES.contains(v)) {
      return Outcome.valueOf(((String) v).toUpperCase(Locale.ROOT));
    }
    error(node.location(), at, at + " must be allow, deny or hold, got " + kind(node)
        + (v instanceof String ? suggest((String) v, OUTCOMES) : ""));
    return null;
  }

  private Step.Approval approval(YNode node, String at) {
    if (node instanceof YScalar) {
      Object v = ((YScalar) node).value();
      if ("approve".equals(v)) {
        return new Step.Approval(Step.Approval.Kind.APPROVE, null, null);
      }
      if ("deny".equals(v)) {
        return new Step.Approval(Step.Approval.Kind.DENY, null, null);
      }
      if ("timeout".equals(v)) {
        return new Step.Approval(Step.Approval.Kind.TIMEOUT, null, null);
      }
      error(node.location(), at, "approval must be approve, deny, timeout or a mapping"
          + " {approve: true, args: {...}, by: alice}, got " + kind(node)
          + (v instanceof String ? suggest((String) v, List.of("approve", "deny", "timeout"))
              : ""));
      return null;
    }
    if (!(node instanceof YMap)) {
      error(node.location(), at, "approval must be approve, deny, timeout or a mapping"
          + " {approve: true, args: {...}, by: alice}, got " + kind(node));
      return null;
    }
    YMap m = (YMap) node;
    checkKeys(m, at, APPROVAL_KEYS);
    YNode approveNode = m.get("approve");
    Boolean approve = null;
    if (approveNode == null) {
      error(m.location(), at + ".approve", "approval needs 'approve: true' or 'approve: false'");
    } else if (approveNode instanceof YScalar && ((YScalar) approveNode).value() instanceof Boolean) {
      approve = (Boolean) ((YScalar) approveNode).value();
    } else {
      error(approveNode.location(), at + ".approve", "approve must be true or false, got "
          + kind(approveNode));
    }
    String args = null;
    if (m.get("args") != null) {
      if (Boolean.FALSE.equals(approve)) {
        error(m.entry("args").keyLocation(), at + ".args", "edited args only make sense with"
            + " approve: true");
      }
      if (m.get("args") instanceof YMap) {
        args = json(m.get("args"));
      } else {
        error(m.get("args").location(), at + ".args", "edited args must be a mapping (the"
            + " arguments object the approver approves), got " + kind(m.get("args")));
      }
    }
    String by = m.get("by") == null ? null : text(m.get("by"), at + ".by");
    if (approve == null) {
      return null;
    }
    return new Step.Approval(approve ? Step.Approval.Kind.APPROVE : Step.Approval.Kind.DENY,
        args, by);
  }

  // ------------------------------------------------------------------ helpers

  /** A YAML value as the equivalent JSON text; numbers are written exactly, never as floats. */
  static String json(YNode node) {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(w)) {
      write(node, g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  private static void write(YNode node, JsonGenerator g) throws IOException {
    if (node instanceof YMap) {
      g.writeStartObject();
      for (Entry e : ((YMap) node).entries()) {
        g.writeFieldName(e.key());
        write(e.value(), g);
      }
      g.writeEndObject();
    } else if (node instanceof YList) {
      g.writeStartArray();
      for (YNode item : ((YList) node).items()) {
        write(item, g);
      }
      g.writeEndArray();
    } else {
      Object v = ((YScalar) node).value();
      if (v == null) {
        g.writeNull();
      } else if (v instanceof BigDecimal) {
        g.writeNumber((BigDecimal) v);
      } else if (v instanceof Boolean) {
        g.writeBoolean((Boolean) v);
      } else {
        g.writeString(String.valueOf(v));
      }
    }
  }

  private List<String> textList(YNode node, String at) {
    List<String> out = new ArrayList<>();
    if (!(node instanceof YList)) {
      error(node.location(), at, at + " must be a list of tool names, got " + kind(node));
      return null;
    }
    for (YNode item : ((YList) node).items()) {
      String s = scalarText(item);
      if (s == null) {
        error(item.location(), at, at + " must list tool names, got " + kind(item));
        return null;
      }
      out.add(s);
    }
    return out;
  }

  private String text(YNode node, String at) {
    String s = scalarText(node);
    if (s == null) {
      error(node.location(), at, at + " must be text, got " + kind(node));
    }
    return s;
  }

  /** Text, or {@code null} for an explicit YAML null (meaning "none"). */
  private String optionalText(YNode node, String at) {
    if (node instanceof YScalar && ((YScalar) node).value() == null) {
      return null;
    }
    return text(node, at);
  }

  /** A scalar as text (numbers in plain form), or {@code null} for null and non-scalars. */
  private static String scalarText(YNode node) {
    if (!(node instanceof YScalar)) {
      return null;
    }
    Object v = ((YScalar) node).value();
    if (v instanceof BigDecimal) {
      return ((BigDecimal) v).toPlainString();
    }
    return v == null ? null : String.valueOf(v);
  }

  private void checkKeys(YMap m, String at, List<String> allowed) {
    for (Entry e : m.entries()) {
      if (!allowed.contains(e.key())) {
        String key = at.isEmpty() ? e.key() : at + "." + e.key();
        error(e.keyLocation(), key, "unknown key '" + e.key() + "'"
            + (at.isEmpty() ? "" : " in " + at) + suggest(e.key(), allowed));
      }
    }
  }

  private static String kind(YNode v) {
    if (v instanceof YMap) {
      return "a mapping";
    }
    if (v instanceof YList) {
      return "a list";
    }
    Object o = ((YScalar) v).value();
    if (o == null) {
      return "nothing";
    }
    if (o instanceof String) {
      return "'" + o + "'";
    }
    if (o instanceof BigDecimal) {
      return "number " + ((BigDecimal) o).toPlainString();
    }
    return "boolean " + o;
  }

  /** {@code ", did you mean 'x'?"} for the closest candidate within edit distance 2, else "". */
  static String suggest(String given, List<String> candidates) {
    return YamlDocument.didYouMean(given, candidates);
  }

  private void error(SourceLocation l, String key, String message) {
    problems.add(new Problem(source, l.line(), l.column(), key, message, false));
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

  private PolicyConfigException failure() {
    return new PolicyConfigException(problems);
  }
}
