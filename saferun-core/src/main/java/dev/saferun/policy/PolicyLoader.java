package dev.saferun.policy;

import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.policy.YamlDocument.Entry;
import dev.saferun.policy.YamlDocument.YList;
import dev.saferun.policy.YamlDocument.YMap;
import dev.saferun.policy.YamlDocument.YNode;
import dev.saferun.policy.YamlDocument.YScalar;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads policy files (SPEC §1) into validated {@link Policy} objects. Every problem in a file is
 * reported at once, each at {@code file:line:col} with its key path; misspelt keys, operators and
 * values get a suggestion. Unknown keys are errors. The policy's version is the sha-256 of the
 * file's bytes.
 *
 * <p>Stateless and thread-safe.
 */
public final class PolicyLoader {
  static final List<String> TOP_KEYS = List.of("version", "name", "description", "default",
      "mode", "match", "hide", "hide_unlisted", "redact", "approvals", "tools", "schema");
  static final List<String> APPROVAL_KEYS = List.of("default_timeout", "on_timeout", "mode");
  static final List<String> TOOL_KEYS = List.of("rules", "schema", "breaker", "result");
  static final List<String> RULE_KEYS = List.of("name", "action", "conditions", "on_deny", "state",
      "rate_limit", "spend", "loop", "approval_timeout", "mode");
  static final List<String> CONDITION_KEYS = List.of("path", "op", "value");

  private PolicyLoader() {}

  /**
   * Loads one policy file. The policy's name defaults to the file name without extension.
   *
   * @throws PolicyConfigException listing every problem with its location
   */
  public static Policy load(Path file) {
    String source = file.toString();
    byte[] bytes;
    try {
      if (Files.size(file) > YamlDocument.MAX_BYTES) {
        throw new PolicyConfigException(List.of(new Problem(source, 1, 1, "",
            "file is too large: " + Files.size(file) + " bytes, the limit is "
                + YamlDocument.MAX_BYTES, false)));
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new PolicyConfigException(List.of(new Problem(source, 0, 0, "",
          "cannot read policy file: " + e, false)));
    }
    return load(bytes, source, defaultName(file));
  }

  /**
   * Loads a policy from YAML text.
   *
   * @param yaml the policy
   * @param source a label for error messages, e.g. a resource name
   * @throws PolicyConfigException listing every problem with its location
   */
  public static Policy loadString(String yaml, String source) {
    return load(yaml.getBytes(StandardCharsets.UTF_8), source, defaultName(Path.of(source)));
  }

  static Policy load(byte[] bytes, String source, String defaultName) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new PolicyConfigException(List.of(new Problem(source, 1, 1, "",
          "policy file is not valid UTF-8", false)));
    }
    YNode root = YamlDocument.parse(text, source);
    return fromNode(root, source, bytes, defaultName);
  }

  /**
   * Builds a policy from a YAML node, for files that embed a policy (such as test files).
   *
   * @param node the policy mapping
   * @param source the file name, for error messages
   * @param versionBytes the bytes whose sha-256 is the policy's version
   * @param defaultName the name used when the policy has no {@code name:}
   * @throws PolicyConfigException listing every problem with its location
   */
  public static Policy fromNode(YNode node, String source, byte[] versionBytes,
      String defaultName) {
    Policy.Builder b = new Policy.Builder();
    b.source(source);
    b.sourceBytes = versionBytes.clone();
    b.name = defaultName;
    new Mapper(b).policy(node);
    return b.build();
  }

  private static String defaultName(Path file) {
    Path fn = file.getFileName();
    String n = fn == null ? file.toString() : fn.toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }

  /** Maps the located YAML tree onto a {@link Policy.Builder}, recording every key's location. */
  private static final class Mapper {
    private final Policy.Builder b;

    Mapper(Policy.Builder b) {
      this.b = b;
    }

    void policy(YNode node) {
      if (!(node instanceof YMap)) {
        problem(node.location(), "", "a policy file must be a mapping with version, tools, …"
            + " (got " + kind(node) + ")");
        b.version = null;
        return;
      }
      YMap m = (YMap) node;
      b.locations.put("", m.location());
      b.version = null;
      checkKeys(m, "", TOP_KEYS);
      for (Entry e : m.entries()) {
        String key = e.key();
        b.locations.put(key, e.keyLocation());
        YNode v = e.value();
        switch (key) {
          case "version":
            b.version = scalar(v, key);
            break;
          case "name":
            Object name = scalar(v, key);
            if (name != null) {
              b.name = name instanceof String ? (String) name : String.valueOf(name);
            }
            break;
          case "description":
            Object d = scalar(v, key);
            b.description = d == null ? null : String.valueOf(d);
            break;
          case "default":
            b.defaultDecision = scalar(v, key);
            break;
          case "mode":
            b.mode = scalar(v, key);
            break;
          case "match":
            match(v);
            break;
          case "hide":
            b.hide.addAll(stringList(v, key));
            break;
          case "hide_unlisted":
            b.hideUnlisted = scalar(v, key);
            break;
          case "redact":
            b.redact.addAll(stringList(v, key));
            break;
          case "approvals":
            approvals(v);
            break;
          case "tools":
            tools(v);
            break;
          case "schema":
            b.schema = scalar(v, key);
            break;
          default:
            break; // reported by checkKeys
        }
      }
    }

    private void match(YNode v) {
      if (isNull(v)) {
        return;
      }
      if (!(v instanceof YMap)) {
        problem(v.location(), "match", "match must map context attributes to a value or a list");
        return;
      }
      for (Entry e : ((YMap) v).entries()) {
        b.locations.put("match." + e.key(), e.keyLocation());
        b.match.computeIfAbsent(e.key(), k -> new ArrayList<>())
            .addAll(stringList(e.value(), "match." + e.key()));
      }
    }

    private void approvals(YNode v) {
      if (isNull(v)) {
        return;
      }
      if (!(v instanceof YMap)) {
        problem(v.location(), "approvals", "approvals must be a mapping");
        return;
      }
      YMap m = (YMap) v;
      checkKeys(m, "approvals", APPROVAL_KEYS);
      for (Entry e : m.entries()) {
        String at = "approvals." + e.key();
        b.locations.put(at, e.keyLocation());
        switch (e.key()) {
          case "default_timeout":
            b.approvalTimeout = scalar(e.value(), at);
            break;
          case "on_timeout":
            b.approvalOnTimeout = scalar(e.value(), at);
            break;
          case "mode":
            b.approvalMode = scalar(e.value(), at);
            break;
          default:
            break;
        }
      }
    }

    private void tools(YNode v) {
      if (isNull(v)) {
        return;
      }
      if (!(v instanceof YMap)) {
        problem(v.location(), "tools", "tools must map tool names to {rules: [...]}");
        return;
      }
      for (Entry e : ((YMap) v).entries()) {
        String tool = e.key();
        String at = "tools." + tool;
        b.locations.put(at, e.keyLocation());
        Policy.ToolBuilder tb = b.tools.computeIfAbsent(tool, Policy.ToolBuilder::new);
        YNode tv = e.value();
        if (isNull(tv)) {
          continue;
        }
        if (!(tv instanceof YMap)) {
          problem(tv.location(), at, "tool '" + tool + "' must be a mapping with 'rules'");
          continue;
        }
        YMap tm = (YMap) tv;
        checkKeys(tm, at, TOOL_KEYS);
        recordKeys(tm, at);
        if (tm.get("schema") != null) {
          tb.schema = scalar(tm.get("schema"), at + ".schema");
        }
        if (tm.get("breaker") != null) {
          tb.breaker = block(tm.get("breaker"), at + ".breaker");
        }
        if (tm.get("result") != null) {
          tb.result = block(tm.get("result"), at + ".result");
        }
        YNode rules = tm.get("rules");
        if (rules == null || isNull(rules)) {
          continue;
        }
        b.locations.put(at + ".rules", tm.entry("rules").keyLocation());
        if (!(rules instanceof YList)) {
          problem(rules.location(), at + ".rules", "rules must be a list");
          continue;
        }
        List<YNode> items = ((YList) rules).items();
        for (int i = 0; i < items.size(); i++) {
          rule(tb, items.get(i), at + ".rules[" + i + "]");
        }
      }
    }

    private void rule(Policy.ToolBuilder tb, YNode node, String at) {
      Policy.RuleBuilder rb = tb.addRule();
      b.locations.put(at, node.location());
      if (!(node instanceof YMap)) {
        problem(node.location(), at, "a rule must be a mapping with name, action, conditions…");
        rb.name = "<invalid rule>";
        rb.action = "deny";
        return;
      }
      YMap m = (YMap) node;
      checkKeys(m, at, RULE_KEYS);
      for (Entry e : m.entries()) {
        String k = at + "." + e.key();
        b.locations.put(k, e.keyLocation());
        YNode v = e.value();
        switch (e.key()) {
          case "name":
            Object n = scalar(v, k);
            rb.name = n == null ? null : String.valueOf(n instanceof java.math.BigDecimal
                ? ((java.math.BigDecimal) n).toPlainString() : n);
            break;
          case "action":
            rb.action = scalar(v, k);
            break;
          case "on_deny":
            rb.onDeny = scalar(v, k);
            break;
          case "approval_timeout":
            rb.approvalTimeout = scalar(v, k);
            break;
          case "mode":
            rb.mode = scalar(v, k);
            break;
          case "rate_limit":
            if (v instanceof YMap) {
              checkKeys((YMap) v, k, List.of("limit", "per"));
              recordKeys((YMap) v, k);
              rb.rateLimit = v.toPlain();
            } else {
              rb.rateLimit = scalar(v, k);
            }
            break;
          case "state":
            rb.state = block(v, k);
            break;
          case "spend":
            rb.spend = block(v, k);
            break;
          case "loop":
            rb.loop = block(v, k);
            break;
          case "conditions":
            conditions(rb, v, k);
            break;
          default:
            break;
        }
      }
    }

    private void conditions(Policy.RuleBuilder rb, YNode v, String at) {
      if (isNull(v)) {
        return;
      }
      if (!(v instanceof YList)) {
        problem(v.location(), at, "conditions must be a list of {path, op, value}");
        return;
      }
      List<YNode> items = ((YList) v).items();
      for (int j = 0; j < items.size(); j++) {
        String cat = at + "[" + j + "]";
        YNode c = items.get(j);
        b.locations.put(cat, c.location());
        if (!(c instanceof YMap)) {
          problem(c.location(), cat, "a condition must be a mapping {path, op, value}");
          continue;
        }
        YMap cm = (YMap) c;
        checkKeys(cm, cat, CONDITION_KEYS);
        recordKeys(cm, cat);
        YNode value = cm.get("value");
        rb.conditions.add(new Object[] {
            cm.get("path") == null ? null : scalar(cm.get("path"), cat + ".path"),
            cm.get("op") == null ? null : scalar(cm.get("op"), cat + ".op"),
            value == null ? null : value.toPlain()});
      }
    }

    private Map<String, Object> block(YNode v, String at) {
      if (!(v instanceof YMap)) {
        problem(v.location(), at, at.substring(at.lastIndexOf('.') + 1) + " must be a mapping");
        return new LinkedHashMap<>();
      }
      recordKeys((YMap) v, at);
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) v.toPlain();
      return m;
    }

    private void recordKeys(YMap m, String at) {
      for (Entry e : m.entries()) {
        b.locations.put(at + "." + e.key(), e.keyLocation());
        b.locations.put(at + "." + e.key() + "#value", e.value().location());
      }
    }

    private void checkKeys(YMap m, String at, List<String> allowed) {
      for (Entry e : m.entries()) {
        if (!allowed.contains(e.key())) {
          String where = at.isEmpty() ? "" : " in " + at;
          problem(e.keyLocation(), at.isEmpty() ? e.key() : at + "." + e.key(),
              "unknown key '" + e.key() + "'" + where
                  + PolicyValidator.suggest(e.key(), allowed));
        }
      }
    }

    private Object scalar(YNode v, String at) {
      if (v instanceof YScalar) {
        return ((YScalar) v).value();
      }
      problem(v.location(), at, at.substring(at.lastIndexOf('.') + 1)
          + " must be a single value, got " + kind(v));
      return null;
    }

    private List<Object> stringList(YNode v, String at) {
      List<Object> out = new ArrayList<>();
      if (isNull(v)) {
        return out;
      }
      if (v instanceof YScalar) {
        out.add(((YScalar) v).value());
        return out;
      }
      if (v instanceof YList) {
        for (YNode item : ((YList) v).items()) {
          if (item instanceof YScalar) {
            out.add(((YScalar) item).value());
          } else {
            problem(item.location(), at, "expected a list of text values, got " + kind(item));
          }
        }
        return out;
      }
      problem(v.location(), at, "expected text or a list of text, got " + kind(v));
      return out;
    }

    private static boolean isNull(YNode v) {
      return v instanceof YScalar && ((YScalar) v).value() == null;
    }

    private static String kind(YNode v) {
      if (v instanceof YMap) {
        return "a mapping";
      }
      if (v instanceof YList) {
        return "a list";
      }
      return PolicyValidator.describe(((YScalar) v).value());
    }

    private void problem(SourceLocation l, String key, String message) {
      b.loaderProblems.add(new Problem(l.source(), l.line(), l.column(), key, message, false));
    }
  }
}
