package dev.saferun.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Writes a starter policy and its test file from MCP tool definitions ({@code tools/list}):
 * every tool is put in a risk tier, and each tier gets the rules a careful first policy would give
 * it. The text is deterministic (same input, same bytes), so it can be reviewed and diffed.
 *
 * <p><b>Tiers</b>, most restrictive first; a tool gets the most restrictive tier any signal gives:
 * <ul>
 *   <li><b>destructive</b>: {@code destructiveHint: true} (when not read-only), or a name word
 *       such as delete, drop, destroy, remove, purge. Hidden from the model and denied.
 *   <li><b>financial</b>: a name word such as refund, charge, pay(ment), payout, transfer,
 *       invoice, subscription. Rate-limited and held for a human's approval.
 *   <li><b>write</b>: everything that is not read-only. Rate-limited.
 *   <li><b>read</b>: {@code readOnlyHint: true}, or a read verb in the name (get, list, search,
 *       read, fetch, …) and no write verb. Allowed.
 * </ul>
 * When the name gives no signal at all, destructive and financial words in the description
 * count. Absent hints say nothing (MCP's own defaults would make every unannotated tool
 * destructive); {@code idempotentHint} and {@code openWorldHint} are shown but do not change the
 * tier.
 *
 * <p>Stateless and thread-safe: static functions of their input.
 */
final class StarterPolicy {
  /** The write tier's rate limit per tool. */
  static final int WRITE_LIMIT = 30;
  static final String WRITE_WINDOW = "minute";
  /** The financial tier's rate limit per tool. */
  static final int FINANCIAL_LIMIT = 10;
  static final String FINANCIAL_WINDOW = "hour";
  static final String WRITE_RULE = "write rate limit";
  static final String FINANCIAL_LIMIT_RULE = "financial rate limit";
  static final String FINANCIAL_APPROVAL_RULE = "financial approval";

  private static final Set<String> READ_VERBS = words("get list search read fetch retrieve"
      + " describe query find lookup view show count browse");
  private static final Set<String> WRITE_VERBS = words("create update add set put post send"
      + " merge push write edit patch upload move fork close cancel assign insert replace"
      + " upsert run execute start stop invite approve publish deploy");
  private static final Set<String> DESTRUCTIVE = words("delete deletes drop drops destroy"
      + " destroys remove removes purge purges erase erases wipe wipes truncate truncates");
  private static final Set<String> FINANCIAL = words("refund refunds charge charges pay pays"
      + " payment payments payout payouts transfer transfers invoice invoices purchase"
      + " purchases checkout withdraw withdrawal withdrawals billing subscription subscriptions"
      + " wire");
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9_./-]*");
  private static final Set<String> YAML_WORDS = words("true false yes no on off null y n");
  private static final int COMMENT_WIDTH = 60;

  private StarterPolicy() {}

  /** A risk tier, most permissive first. */
  enum Tier {
    READ("read"), WRITE("write"), FINANCIAL("financial"), DESTRUCTIVE("destructive");

    final String label;

    Tier(String label) {
      this.label = label;
    }
  }

  /**
   * One tool as the starter policy sees it.
   *
   * @param name the tool's name
   * @param description its description, on one line (may be empty)
   * @param tier its tier
   * @param why the signal that decided the tier, for the YAML comment
   * @param exampleArgs a YAML flow mapping of example values for the required arguments
   */
  record Tool(String name, String description, Tier tier, String why, String exampleArgs) {}

  /**
   * Reads tool definitions: {@code {"tools": [...]}}, a bare array, or a whole JSON-RPC
   * {@code tools/list} response ({@code {"result": {"tools": [...]}}}).
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  static List<Tool> read(JsonNode root) {
    JsonNode list = root;
    if (root.isObject() && root.has("result") && root.get("result").has("tools")) {
      list = root.get("result").get("tools");
    } else if (root.isObject() && root.has("tools")) {
      list = root.get("tools");
    }
    if (!list.isArray()) {
      throw new IllegalArgumentException("expected MCP tools/list JSON: {\"tools\": [...]} or an"
          + " array of tools, got " + kind(list));
    }
    if (list.isEmpty()) {
      throw new IllegalArgumentException("the tool list is empty");
    }
    List<Tool> tools = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode t = list.get(i);
      if (!t.isObject() || !t.path("name").isTextual() || t.get("name").asText().isBlank()) {
        throw new IllegalArgumentException("tools[" + i + "] needs a \"name\" (text)");
      }
      String name = t.get("name").asText();
      if (name.equals("*")) {
        throw new IllegalArgumentException("tools[" + i + "]: a tool cannot be named \"*\"");
      }
      if (!seen.add(name)) {
        throw new IllegalArgumentException("tools[" + i + "]: tool \"" + name + "\" is listed"
            + " twice");
      }
      tools.add(classify(t));
    }
    return tools;
  }

  /** Puts one tool definition in its tier. */
  static Tool classify(JsonNode t) {
    String name = t.get("name").asText();
    String description = oneLine(t.path("description").asText(""));
    JsonNode a = t.path("annotations");
    boolean readOnly = a.path("readOnlyHint").asBoolean(false);
    boolean destructive = a.path("destructiveHint").asBoolean(false);

    Tier byHint = null;
    String hintWhy = null;
    if (readOnly) {
      byHint = Tier.READ;
      hintWhy = "readOnlyHint";
    } else if (destructive) {
      byHint = Tier.DESTRUCTIVE;
      hintWhy = "destructiveHint";
    }
    Tier byWords = null;
    String wordsWhy = null;
    List<String> nameWords = tokens(name);
    String hit = first(nameWords, DESTRUCTIVE);
    if (hit != null) {
      byWords = Tier.DESTRUCTIVE;
      wordsWhy = "name: " + hit;
    } else if (first(nameWords, READ_VERBS) != null && first(nameWords, WRITE_VERBS) == null) {
      byWords = Tier.READ;
      wordsWhy = "name: " + first(nameWords, READ_VERBS);
    } else if ((hit = first(nameWords, FINANCIAL)) != null) {
      byWords = Tier.FINANCIAL;
      wordsWhy = "name: " + hit;
    } else if (first(nameWords, WRITE_VERBS) == null) {
      List<String> descWords = tokens(description);
      if ((hit = first(descWords, DESTRUCTIVE)) != null) {
        byWords = Tier.DESTRUCTIVE;
        wordsWhy = "description: " + hit;
      } else if ((hit = first(descWords, FINANCIAL)) != null) {
        byWords = Tier.FINANCIAL;
        wordsWhy = "description: " + hit;
      }
    }

    Tier tier;
    String why;
    if (byHint == null && byWords == null) {
      tier = Tier.WRITE;
      why = "not read-only";
    } else if (byWords == null || (byHint != null && byHint.compareTo(byWords) >= 0)) {
      tier = byHint;
      why = hintWhy;
    } else {
      tier = byWords;
      why = wordsWhy + (byHint == null ? "" : " (overrides " + hintWhy + ")");
    }
    List<String> notes = new ArrayList<>();
    if (a.path("idempotentHint").asBoolean(false)) {
      notes.add("idempotent");
    }
    if (a.path("openWorldHint").asBoolean(false)) {
      notes.add("open world");
    }
    if (!notes.isEmpty()) {
      why += "; " + String.join(", ", notes);
    }
    return new Tool(name, description, tier, why, exampleArgs(t.path("inputSchema")));
  }

  // ------------------------------------------------------------------ policy

  /**
   * The starter policy.
   *
   * @param name the policy's name
   * @param source where the tool definitions came from, for the header comment
   */
  static String policy(String name, String source, List<Tool> tools) {
    StringBuilder y = new StringBuilder();
    y.append("# Starter policy written by `saferun init` from ").append(oneLine(source))
        .append(" (").append(count(tools.size(), "tool")).append(").\n");
    y.append("# Deny by default: a tool added to the server later is denied until it is listed"
        + " here.\n");
    y.append("# The tiers come from each tool's MCP annotations (readOnlyHint, destructiveHint)"
        + " and\n# from words in its name and description: review every tool before relying on"
        + " this.\n");
    y.append("version: \"1\"\n");
    y.append("name: ").append(scalar(name)).append('\n');
    y.append("description: ").append(scalar("Starter policy for " + count(tools.size(), "tool")
        + " (saferun init)")).append('\n');
    y.append("default: deny\n");

    List<Tool> destructive = of(tools, Tier.DESTRUCTIVE);
    if (!destructive.isEmpty()) {
      y.append("\n# Destructive tier: hidden from the model and denied. To allow one, take it out"
          + " of this list\n# and give it rules under tools (for example action:"
          + " require_approval).\n");
      y.append("hide:\n");
      for (Tool t : destructive) {
        line(y, "  - " + scalar(t.name()), t);
      }
    }

    List<Tool> read = of(tools, Tier.READ);
    List<Tool> write = of(tools, Tier.WRITE);
    List<Tool> financial = of(tools, Tier.FINANCIAL);
    if (read.isEmpty() && write.isEmpty() && financial.isEmpty()) {
      y.append("\ntools: {}\n");
      return y.toString();
    }
    y.append("\ntools:\n");
    if (!read.isEmpty()) {
      y.append("  # Read tier: read-only tools, allowed. Add a rate_limit where a read is"
          + " costly.\n");
      for (Tool t : read) {
        line(y, "  " + scalar(t.name()) + ":", t);
        y.append("    rules: []\n");
      }
    }
    if (!write.isEmpty()) {
      y.append(read.isEmpty() ? "" : "\n");
      y.append("  # Write tier: tools that change something, at most ").append(WRITE_LIMIT)
          .append(" calls a ").append(WRITE_WINDOW).append(" each.\n")
          .append("  # Add conditions on their arguments as you learn what is normal.\n");
      for (Tool t : write) {
        line(y, "  " + scalar(t.name()) + ":", t);
        y.append("    rules:\n");
        y.append("      - name: ").append(WRITE_RULE).append('\n');
        y.append("        rate_limit: ").append(WRITE_LIMIT).append('/').append(WRITE_WINDOW)
            .append('\n');
      }
    }
    if (!financial.isEmpty()) {
      y.append(read.isEmpty() && write.isEmpty() ? "" : "\n");
      y.append("  # Financial tier: tools that move money, at most ").append(FINANCIAL_LIMIT)
          .append(" calls an ").append(FINANCIAL_WINDOW).append(" each, and\n")
          .append("  # every call waits for a human (safeRun.approvals(): approve, edit or"
              + " deny). Put hard\n")
          .append("  # limits on amounts above the approval rule: no approval lifts them.\n");
      for (Tool t : financial) {
        line(y, "  " + scalar(t.name()) + ":", t);
        y.append("    rules:\n");
        y.append("      - name: ").append(FINANCIAL_LIMIT_RULE).append('\n');
        y.append("        rate_limit: ").append(FINANCIAL_LIMIT).append('/')
            .append(FINANCIAL_WINDOW).append('\n');
        y.append("      - name: ").append(FINANCIAL_APPROVAL_RULE).append('\n');
        y.append("        action: require_approval\n");
        y.append("        on_deny: ").append(scalar(t.name() + " moves money: a human must"
            + " approve it")).append('\n');
      }
    }
    return y.toString();
  }

  // ------------------------------------------------------------------ tests

  /**
   * The starter test file: what the model sees, one case per tool (two for rate limits and
   * approvals), and a tool that is not listed.
   *
   * @param policyFile the policy's file name, relative to the test file
   */
  static String tests(String policyFile, List<Tool> tools) {
    StringBuilder y = new StringBuilder();
    y.append("# Starter tests written by `saferun init` for ").append(oneLine(policyFile))
        .append(": one case per tool and its tier.\n");
    y.append("# Run them with `saferun test` (SPEC §10); add a case for every rule you"
        + " write.\n");
    y.append("policy: ").append(scalar(policyFile)).append('\n');
    y.append("cases:\n");
    List<String> all = new ArrayList<>();
    List<String> visible = new ArrayList<>();
    for (Tool t : tools) {
      all.add(scalar(t.name()));
      if (t.tier() != Tier.DESTRUCTIVE) {
        visible.add(scalar(t.name()));
      }
    }
    y.append("  - name: the model sees every tool but the destructive ones\n");
    y.append(flowList("    tools: ", all));
    y.append(flowList("    expect_visible: ", visible));

    tierComment(y, tools, Tier.READ, "read tools are allowed");
    for (Tool t : of(tools, Tier.READ)) {
      caseHeader(y, t, "(read) is allowed");
      y.append("    expect: allow\n");
    }
    tierComment(y, tools, Tier.WRITE, "write tools are rate-limited per tool");
    for (Tool t : of(tools, Tier.WRITE)) {
      caseHeader(y, t, "(write) is allowed " + WRITE_LIMIT + " times a " + WRITE_WINDOW);
      y.append("    repeat: ").append(WRITE_LIMIT).append('\n');
      y.append("    expect: allow\n");
      caseHeader(y, t, "(write) is rate-limited after that");
      y.append("    expect: {decision: deny, rule: ").append(WRITE_RULE).append(", message: ")
          .append(scalar("Rate limit of " + WRITE_LIMIT + " per " + WRITE_WINDOW
              + " reached. Try again later.")).append("}\n");
    }
    tierComment(y, tools, Tier.FINANCIAL, "financial tools wait for a human");
    for (Tool t : of(tools, Tier.FINANCIAL)) {
      caseHeader(y, t, "(financial) is held for a human");
      y.append("    expect: {decision: hold, rule: ").append(FINANCIAL_APPROVAL_RULE)
          .append("}\n");
      caseHeader(y, t, "(financial) runs once a human approves it");
      y.append("    approval: approve\n");
      y.append("    expect: allow\n");
    }
    tierComment(y, tools, Tier.DESTRUCTIVE, "destructive tools are hidden");
    for (Tool t : of(tools, Tier.DESTRUCTIVE)) {
      caseHeader(y, t, "(destructive) is hidden and denied");
      y.append("    expect: {decision: deny, message: ")
          .append(scalar("Tool \"" + t.name() + "\" is hidden by policy")).append("}\n");
    }
    String unknown = unlisted(tools);
    y.append("\n  # Deny by default\n");
    y.append("  - name: a tool the policy does not list is denied\n");
    y.append("    call: ").append(unknown).append('\n');
    y.append("    expect: {decision: deny, message: ")
        .append(scalar("Tool \"" + unknown + "\" is not permitted by policy")).append("}\n");
    return y.toString();
  }

  private static void tierComment(StringBuilder y, List<Tool> tools, Tier tier, String what) {
    if (!of(tools, tier).isEmpty()) {
      y.append("\n  # ").append(Character.toUpperCase(tier.label.charAt(0)))
          .append(tier.label.substring(1)).append(" tier: ").append(what).append('\n');
    }
  }

  /** {@code prefix[a, b, c]}, wrapped before 100 columns with continuation lines indented. */
  private static String flowList(String prefix, List<String> items) {
    StringBuilder sb = new StringBuilder(prefix).append('[');
    int column = sb.length();
    String indent = " ".repeat(prefix.length() - prefix.stripLeading().length() + 2);
    for (int i = 0; i < items.size(); i++) {
      String item = items.get(i) + (i == items.size() - 1 ? "" : ",");
      if (i > 0 && column + 1 + item.length() > 99) {
        sb.append('\n').append(indent);
        column = indent.length();
      } else if (i > 0) {
        sb.append(' ');
        column++;
      }
      sb.append(item);
      column += item.length();
    }
    return sb.append("]\n").toString();
  }

  private static void caseHeader(StringBuilder y, Tool t, String what) {
    y.append("  - name: ").append(scalar(t.name() + " " + what)).append('\n');
    y.append("    call: ").append(scalar(t.name())).append('\n');
    y.append("    args: ").append(t.exampleArgs()).append('\n');
  }

  private static String unlisted(List<Tool> tools) {
    Set<String> names = new HashSet<>();
    tools.forEach(t -> names.add(t.name()));
    String n = "a_tool_not_in_the_policy";
    for (int i = 2; names.contains(n); i++) {
      n = "a_tool_not_in_the_policy_" + i;
    }
    return n;
  }

  // ------------------------------------------------------------------ example arguments

  /** Example values for the schema's required properties, as a YAML flow mapping. */
  static String exampleArgs(JsonNode schema) {
    JsonNode props = schema.path("properties");
    Map<String, String> values = new LinkedHashMap<>();
    for (JsonNode r : iterable(schema.path("required"))) {
      if (r.isTextual()) {
        values.put(r.asText(), example(props.path(r.asText()), 0));
      }
    }
    return mapping(values);
  }

  private static String example(JsonNode p, int depth) {
    if (p.has("const")) {
      return value(p.get("const"));
    }
    if (p.path("enum").isArray() && !p.get("enum").isEmpty()) {
      return value(p.get("enum").get(0));
    }
    if (p.has("default") && !p.get("default").isNull()) {
      return value(p.get("default"));
    }
    switch (type(p)) {
      case "integer":
      case "number":
        if (p.path("minimum").isNumber()) {
          BigDecimal min = p.get("minimum").decimalValue();
          return min.signum() > 0 ? min.toPlainString() : "1";
        }
        return "1";
      case "boolean":
        return "false";
      case "array":
        return "[]";
      case "object":
        if (depth < 3 && p.has("required")) {
          Map<String, String> inner = new LinkedHashMap<>();
          for (JsonNode r : iterable(p.path("required"))) {
            inner.put(r.asText(), example(p.path("properties").path(r.asText()), depth + 1));
          }
          return mapping(inner);
        }
        return "{}";
      default:
        return "example";
    }
  }

  private static String type(JsonNode p) {
    JsonNode t = p.path("type");
    if (t.isTextual()) {
      return t.asText();
    }
    for (JsonNode each : iterable(t)) {
      if (each.isTextual() && !each.asText().equals("null")) {
        return each.asText();
      }
    }
    return "string";
  }

  /** A JSON scalar as YAML; structures as flow collections. */
  private static String value(JsonNode v) {
    if (v.isTextual()) {
      return scalar(v.asText());
    }
    if (v.isNumber() || v.isBoolean()) {
      return v.asText();
    }
    if (v.isArray()) {
      List<String> items = new ArrayList<>();
      for (JsonNode i : (ArrayNode) v) {
        items.add(value(i));
      }
      return "[" + String.join(", ", items) + "]";
    }
    if (v.isObject()) {
      Map<String, String> m = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        m.put(e.getKey(), value(e.getValue()));
      }
      return mapping(m);
    }
    return "null";
  }

  private static String mapping(Map<String, String> values) {
    List<String> parts = new ArrayList<>();
    values.forEach((k, v) -> parts.add(scalar(k) + ": " + v));
    return "{" + String.join(", ", parts) + "}";
  }

  // ------------------------------------------------------------------ text

  /** A string as a YAML scalar: plain when that is unambiguous, else double-quoted. */
  static String scalar(String s) {
    if (PLAIN.matcher(s).matches() && !YAML_WORDS.contains(s.toLowerCase(Locale.ROOT))) {
      return s;
    }
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f || c == 0x85 || c == 0x2028 || c == 0x2029) {
        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }

  /** A tool's line with its tier signal and description as a comment. */
  private static void line(StringBuilder y, String text, Tool t) {
    String comment = t.why();
    if (!t.description().isEmpty()) {
      String d = t.description();
      if (d.length() > COMMENT_WIDTH) {
        int cut = COMMENT_WIDTH - 3;
        if (Character.isHighSurrogate(d.charAt(cut - 1))) {
          cut--;
        }
        d = d.substring(0, cut) + "...";
      }
      comment += " - " + d;
    }
    y.append(text).append("  # ").append(comment).append('\n');
  }

  /**
   * Text on one line: every run of whitespace or control characters (including the line breaks
   * YAML knows beyond {@code \n}: U+0085, U+2028, U+2029) becomes one space, so a description
   * can never end a YAML comment early.
   */
  static String oneLine(String s) {
    return s.replaceAll("[\\s\\p{Cc}\\u0085\\u2028\\u2029]+", " ").trim();
  }

  private static List<Tool> of(List<Tool> tools, Tier tier) {
    List<Tool> out = new ArrayList<>();
    for (Tool t : tools) {
      if (t.tier() == tier) {
        out.add(t);
      }
    }
    return out;
  }

  /** Count by tier, e.g. {@code 5 read, 4 write, 2 financial, 1 destructive}. */
  static String summary(List<Tool> tools) {
    List<String> parts = new ArrayList<>();
    for (Tier tier : Tier.values()) {
      int n = of(tools, tier).size();
      if (n > 0) {
        parts.add(n + " " + tier.label);
      }
    }
    return String.join(", ", parts);
  }

  /** Lower-case words: split at non-alphanumerics and camelCase humps. */
  static List<String> tokens(String s) {
    String spaced = s.replaceAll("([a-z0-9])([A-Z])", "$1 $2");
    List<String> out = new ArrayList<>();
    for (String w : spaced.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
      if (!w.isEmpty()) {
        out.add(w);
      }
    }
    return out;
  }

  private static String first(List<String> tokens, Set<String> set) {
    for (String t : tokens) {
      if (set.contains(t)) {
        return t;
      }
    }
    return null;
  }

  private static Set<String> words(String s) {
    return Set.copyOf(Arrays.asList(s.split(" ")));
  }

  private static String count(int n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }

  private static String kind(JsonNode n) {
    return n.isObject() ? "an object without \"tools\"" : n.getNodeType().toString()
        .toLowerCase(Locale.ROOT);
  }

  private static Iterable<JsonNode> iterable(JsonNode n) {
    return n.isArray() ? n : List.of();
  }
}
