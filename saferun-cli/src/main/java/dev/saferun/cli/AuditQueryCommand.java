package dev.saferun.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.saferun.Clock;
import dev.saferun.Decision;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditException;
import dev.saferun.audit.AuditLog;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code saferun audit query}: filters audit events and prints them as a table, JSON or CSV. */
@Command(
    name = "query",
    description = {
        "Print the audit events that match every filter given (a filter repeated, or given a"
            + " comma-separated list, matches any of its values), in log order.",
        "--shadow-diff keeps the decisions where a shadow rule or policy would have decided"
            + " differently from the enforced decision, and summarizes them per shadow rule:"
            + " the review step of a shadow-first rollout.",
        "Does not verify the chain: run 'saferun audit verify' for that.",
        "Exit code: 0 (whether or not anything matched), 2 on an error."})
final class AuditQueryCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();
  private static final int MAX_CELL = 60;

  /** Output formats. */
  enum Format { table, json, csv }

  @Spec
  CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "FILE_OR_DIR", description = "Audit log files.")
  List<Path> paths;

  @Option(names = "--tool", split = ",", paramLabel = "NAME", description = "Tool name.")
  Set<String> tools;

  @Option(names = "--decision", split = ",", paramLabel = "TYPE",
      description = "Event type: allowed, denied, held, approved, approval_denied, expired,"
          + " executed, failed, policy_reloaded, breaker_opened, kill_switch_engaged, ... (allow,"
          + " deny and hold work too).")
  Set<String> decisions;

  @Option(names = "--rule", split = ",", paramLabel = "NAME",
      description = "Deciding rule (with --shadow-diff: the shadow rule).")
  Set<String> rules;

  @Option(names = "--user", split = ",", paramLabel = "ID", description = "context.user")
  Set<String> users;

  @Option(names = "--run", split = ",", paramLabel = "ID", description = "context.run")
  Set<String> runs;

  @Option(names = "--context", paramLabel = "KEY=VALUE",
      description = "Any context attribute (agent, environment, tenant, ...); repeatable.")
  Map<String, String> context = new LinkedHashMap<>();

  @Option(names = "--since", paramLabel = "WHEN",
      description = "From this time on (inclusive): 2026-01-15T10:30:00Z, 2026-01-15, or a"
          + " duration ago such as 24h.")
  String since;

  @Option(names = "--until", paramLabel = "WHEN", description = "Before this time (exclusive).")
  String until;

  @Option(names = "--format", paramLabel = "FORMAT",
      description = "table (default), json (one object per line) or csv.")
  Format format = Format.table;

  @Option(names = "--shadow-diff",
      description = "Only decisions whose shadow verdict differs from the enforced one, with a"
          + " summary per shadow rule.")
  boolean shadowDiff;

  private Set<AuditEvent.Type> types;
  private Instant from;
  private Instant to;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    types = types();
    from = AuditCli.instant(spec.commandLine(), "--since", since, Clock.system());
    to = AuditCli.instant(spec.commandLine(), "--until", until, Clock.system());
    Output output = format == Format.json ? new Json(out)
        : format == Format.csv ? new Csv(out) : new Table(out, shadowDiff);
    Map<String, Map<String, Long>> perRule = new TreeMap<>();
    long matched = 0;
    try (Stream<AuditLog.Entry> entries = AuditLog.read(paths)) {
      for (AuditLog.Entry e : (Iterable<AuditLog.Entry>) entries::iterator) {
        if (!AuditCli.event(e, err) || !matches(e.event())) {
          continue;
        }
        matched++;
        output.row(e);
        if (shadowDiff) {
          AuditEvent ev = e.event();
          String rule = "\"" + ev.shadow().rule() + "\""
              + (ev.shadow().policy() == null ? "" : " (" + ev.shadow().policy() + ")");
          String change = AuditCli.label(ev.type()) + " -> would be "
              + AuditCli.label(ev.shadow().outcome());
          perRule.computeIfAbsent(rule, k -> new TreeMap<>()).merge(change, 1L, Long::sum);
        }
      }
    } catch (IOException | UncheckedIOException | AuditException e) {
      output.end();
      err.println("saferun: " + AuditCli.message(e instanceof UncheckedIOException
          ? ((UncheckedIOException) e).getCause() : e));
      return Main.ERROR;
    }
    output.end();
    if (format == Format.table) {
      out.println(matched + (shadowDiff ? " decision" + (matched == 1 ? "" : "s")
          + " where the shadow verdict differs" : " event" + (matched == 1 ? "" : "s")));
      if (shadowDiff && !perRule.isEmpty()) {
        out.println("By shadow rule:");
        perRule.forEach((rule, changes) -> out.println("  " + rule + ": "
            + changes.values().stream().mapToLong(Long::longValue).sum() + " ("
            + changes.entrySet().stream().map(c -> c.getKey() + ": " + c.getValue())
                .collect(Collectors.joining(", ")) + ")"));
      }
    }
    return Main.OK;
  }

  private Set<AuditEvent.Type> types() {
    if (decisions == null) {
      return null;
    }
    Set<AuditEvent.Type> out = new java.util.HashSet<>();
    for (String d : decisions) {
      String t = d.trim().toUpperCase(Locale.ROOT);
      switch (t) {
        case "ALLOW":
          t = "ALLOWED";
          break;
        case "DENY":
          t = "DENIED";
          break;
        case "HOLD":
          t = "HELD";
          break;
        default:
          break;
      }
      try {
        out.add(AuditEvent.Type.valueOf(t));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--decision must be one of "
            + java.util.Arrays.stream(AuditEvent.Type.values()).map(AuditCli::label)
                .collect(Collectors.joining(", ")) + " (or allow, deny, hold); got '" + d + "'");
      }
    }
    return out;
  }

  private boolean matches(AuditEvent e) {
    if (tools != null && !tools.contains(e.tool())) {
      return false;
    }
    if (types != null && !types.contains(e.type())) {
      return false;
    }
    if (users != null && !users.contains(e.context().get("user"))) {
      return false;
    }
    if (runs != null && !runs.contains(e.context().get("run"))) {
      return false;
    }
    for (Map.Entry<String, String> c : context.entrySet()) {
      if (!c.getValue().equals(e.context().get(c.getKey()))) {
        return false;
      }
    }
    if (from != null && e.time().isBefore(from)) {
      return false;
    }
    if (to != null && !e.time().isBefore(to)) {
      return false;
    }
    if (shadowDiff) {
      Decision.Outcome enforced = AuditCli.outcome(e.type());
      if (enforced == null || e.shadow() == null || e.shadow().outcome() == enforced) {
        return false;
      }
      return rules == null || rules.contains(e.shadow().rule());
    }
    return rules == null || rules.contains(e.rule());
  }

  /** How rows are printed. */
  private interface Output {
    void row(AuditLog.Entry e);

    void end();
  }

  /** One JSON object per event, as in the log without the chain fields, plus its source. */
  private static final class Json implements Output {
    private final PrintWriter out;

    Json(PrintWriter out) {
      this.out = out;
    }

    @Override
    public void row(AuditLog.Entry entry) {
      out.println(json(entry));
    }

    @Override
    public void end() {
      out.flush();
    }
  }

  static ObjectNode json(AuditLog.Entry entry) {
    AuditEvent e = entry.event();
    ObjectNode o = JSON.createObjectNode();
    o.put("source", AuditCli.source(entry));
    o.put("time", e.time().toString());
    o.put("sequence", e.sequence());
    o.put("type", e.type().name());
    o.put("tool", e.tool());
    ObjectNode c = o.putObject("context");
    e.context().asMap().forEach(c::put);
    if (e.arguments() != null) {
      JsonNode args = null;
      if (e.arguments().startsWith("{")) {
        try {
          args = JSON.readTree(e.arguments());
        } catch (IOException ex) {
          args = null;
        }
      }
      if (args != null && args.isObject()) {
        o.set("arguments", args);
      } else {
        o.put("arguments", e.arguments());
      }
    }
    o.put("argumentsHash", e.argumentsHash());
    o.put("policy", e.policy());
    o.put("policyVersion", e.policyVersion());
    o.put("rule", e.rule());
    o.put("message", e.message());
    if (e.shadow() != null) {
      ObjectNode s = o.putObject("shadow");
      s.put("outcome", e.shadow().outcome().name());
      s.put("policy", e.shadow().policy());
      s.put("rule", e.shadow().rule());
      s.put("message", e.shadow().message());
    }
    o.put("decisionNanos", e.decisionNanos());
    o.put("approvalId", e.approvalId());
    o.put("approver", e.approver());
    o.put("toolNanos", e.toolNanos());
    o.put("cost", e.cost() == null ? null : e.cost().toPlainString());
    return o;
  }

  /** RFC 4180 CSV with a header row; cells that a spreadsheet would run as a formula are quoted. */
  private static final class Csv implements Output {
    private static final List<String> HEADER = List.of("source", "time", "sequence", "type",
        "tool", "run", "agent", "environment", "user", "tenant", "policy", "policy_version",
        "rule", "message", "shadow_outcome", "shadow_rule", "decision_ms", "tool_ms", "cost",
        "approval_id", "approver", "arguments", "arguments_hash");
    private final PrintWriter out;

    Csv(PrintWriter out) {
      this.out = out;
      out.println(String.join(",", HEADER));
    }

    @Override
    public void row(AuditLog.Entry entry) {
      AuditEvent e = entry.event();
      List<String> cells = new ArrayList<>();
      cells.add(AuditCli.source(entry));
      cells.add(e.time().toString());
      cells.add(Long.toString(e.sequence()));
      cells.add(AuditCli.label(e.type()));
      cells.add(e.tool());
      for (String k : List.of("run", "agent", "environment", "user", "tenant")) {
        cells.add(e.context().get(k));
      }
      cells.add(e.policy());
      cells.add(e.policyVersion());
      cells.add(e.rule());
      cells.add(e.message());
      cells.add(e.shadow() == null ? null : e.shadow().outcome().name().toLowerCase(Locale.ROOT));
      cells.add(e.shadow() == null ? null : e.shadow().rule());
      cells.add(String.format(Locale.ROOT, "%.3f", e.decisionNanos() / 1e6));
      cells.add(String.format(Locale.ROOT, "%.3f", e.toolNanos() / 1e6));
      cells.add(e.cost() == null ? null : e.cost().toPlainString());
      cells.add(e.approvalId());
      cells.add(e.approver());
      cells.add(e.arguments());
      cells.add(e.argumentsHash());
      out.println(cells.stream().map(Csv::cell).collect(Collectors.joining(",")));
    }

    static String cell(String v) {
      if (v == null) {
        return "";
      }
      // A leading = + - @ (or tab/CR) makes spreadsheets evaluate the cell: neutralise it.
      if (!v.isEmpty() && "=+-@\t\r".indexOf(v.charAt(0)) >= 0
          && !v.matches("-?\\d+(\\.\\d+)?")) {
        v = "'" + v;
      }
      if (v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")
          || v.startsWith("'")) {
        return "\"" + v.replace("\"", "\"\"") + "\"";
      }
      return v;
    }

    @Override
    public void end() {
      out.flush();
    }
  }

  /** Aligned columns; widths from all rows, cells cut at 60 characters. */
  private static final class Table implements Output {
    private final PrintWriter out;
    private final boolean shadow;
    private final List<String[]> rows = new ArrayList<>();

    Table(PrintWriter out, boolean shadow) {
      this.out = out;
      this.shadow = shadow;
      rows.add(shadow
          ? new String[] {"TIME", "TOOL", "ENFORCED", "RULE", "SHADOW", "SHADOW RULE", "RUN",
              "USER", "ARGUMENTS"}
          : new String[] {"TIME", "TYPE", "TOOL", "RULE", "RUN", "USER", "MESSAGE",
              "ARGUMENTS"});
    }

    @Override
    public void row(AuditLog.Entry entry) {
      AuditEvent e = entry.event();
      String run = e.context().get("run");
      String user = e.context().get("user");
      if (shadow) {
        rows.add(new String[] {e.time().toString(), e.tool(), AuditCli.label(e.type()),
            e.rule(), AuditCli.label(e.shadow().outcome()), e.shadow().rule(), run, user,
            e.arguments()});
      } else {
        rows.add(new String[] {e.time().toString(), AuditCli.label(e.type()), e.tool(),
            e.rule(), run, user, e.message(), e.arguments()});
      }
    }

    @Override
    public void end() {
      int cols = rows.get(0).length;
      int[] width = new int[cols];
      for (String[] r : rows) {
        for (int i = 0; i < cols; i++) {
          r[i] = clip(r[i]);
          width[i] = Math.max(width[i], r[i].length());
        }
      }
      for (String[] r : rows) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cols; i++) {
          sb.append(r[i]);
          if (i < cols - 1) {
            sb.append(" ".repeat(width[i] - r[i].length() + 2));
          }
        }
        out.println(sb.toString().stripTrailing());
      }
      rows.clear();
    }

    private static String clip(String s) {
      if (s == null) {
        return "-";
      }
      String one = s.replace('\n', ' ').replace('\r', ' ').replace('\t', ' ');
      return one.length() <= MAX_CELL ? one : one.substring(0, MAX_CELL - 1) + "…";
    }
  }
}
