package dev.saferun.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.saferun.CallContext;
import dev.saferun.Clock;
import dev.saferun.Decision;
import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import dev.saferun.test.FakeClock;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code saferun eval}: decides one tool call against policy files and prints the decision. */
@Command(
    name = "eval",
    description = {
        "Decide one tool call against one or more policy files (an ordered policy set) with fresh"
            + " counters, and print the decision as one JSON object:",
        "  {\"decision\":\"allow|deny|hold\",\"policy\":...,\"rule\":...,\"message\":...}"
            + " (plus \"shadow\" when a shadow rule or policy ran).",
        "Exit code: 0 when a decision was printed (whatever it is), 2 on an error."})
final class EvalCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Option(names = "--policy", required = true, paramLabel = "FILE",
      description = "A policy file; repeat for a policy set, evaluated in the order given.")
  List<Path> policies;

  @Option(names = "--tool", required = true, paramLabel = "NAME", description = "The tool called.")
  String tool;

  @Option(names = "--args", paramLabel = "JSON",
      description = "The call's arguments as JSON text (default: no arguments, i.e. {}).")
  String args;

  @Option(names = "--context", paramLabel = "KEY=VALUE",
      description = "A context attribute (agent, environment, user, tenant, run, ...); repeatable.")
  Map<String, String> context = new LinkedHashMap<>();

  @Option(names = "--at", paramLabel = "INSTANT",
      description = "When the call is made, e.g. 2026-01-15T10:30:00Z (default: now).")
  String at;

  @Option(names = "--price", paramLabel = "TOOL=AMOUNT",
      description = "A tool's price for spend rules; repeatable.")
  Map<String, BigDecimal> prices = new LinkedHashMap<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Instant when = instant();
    PolicyFiles.checkPrices(spec.commandLine(), prices);
    PolicySet set = PolicyFiles.load(policies, err);
    if (set == null) {
      return Main.ERROR;
    }
    SafeRun safeRun;
    try {
      safeRun = SafeRun.builder()
          .policies(set)
          .clock(new FakeClock(when))
          .prices(prices)
          .auditSink(AuditSink.NONE)
          .build();
    } catch (PolicyConfigException e) {
      for (Problem p : e.problems()) {
        err.println(p + (p.message().contains("no price") ? " (use --price TOOL=AMOUNT)" : ""));
      }
      return Main.ERROR;
    }
    Decision d = safeRun.evaluate(ToolCall.of(tool, args, CallContext.of(context)));
    out.println(json(d));
    return Main.OK;
  }

  private Instant instant() {
    if (at == null) {
      return Clock.system().instant();
    }
    try {
      return Instant.parse(at);
    } catch (DateTimeParseException e) {
      throw new ParameterException(spec.commandLine(), "--at must be an instant like"
          + " 2026-01-15T10:30:00Z, got '" + at + "'");
    }
  }

  static String json(Decision d) {
    ObjectNode o = JSON.createObjectNode();
    o.put("decision", d.outcome().name().toLowerCase(Locale.ROOT));
    o.put("policy", d.policy());
    o.put("rule", d.rule());
    o.put("message", d.message());
    if (d.shadow() != null) {
      ObjectNode s = o.putObject("shadow");
      s.put("decision", d.shadow().outcome().name().toLowerCase(Locale.ROOT));
      s.put("policy", d.shadow().policy());
      s.put("rule", d.shadow().rule());
      s.put("message", d.shadow().message());
    }
    return o.toString();
  }
}
