package dev.saferun.cli;

import dev.saferun.Decision;
import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditException;
import dev.saferun.audit.AuditLog;
import dev.saferun.policy.PolicySet;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code saferun replay}: what a new policy set would have decided for recorded calls. */
@Command(
    name = "replay",
    description = {
        "Re-evaluate every call recorded in an audit log under a new policy set, in recorded"
            + " time order with the recorded timestamps as the clock (so counters, rate limits"
            + " and windows replay as they happened), and report every call whose decision or"
            + " deciding rule would change, with both, then a summary.",
        "Replay sees the log's arguments: values at redact: paths are \"***\", so conditions on"
            + " redacted paths see \"***\". Each SafeRun instance in the log (a restart, a test"
            + " file) is replayed with fresh counters unless --shared-counters is given.",
        "Exit code: 0 when no decision would change, 1 when some would (a CI gate), 2 on an"
            + " error."})
final class ReplayCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--audit", required = true, arity = "1..*", paramLabel = "FILE_OR_DIR",
      description = "Audit log files.")
  List<Path> audit;

  @Option(names = "--policy", required = true, paramLabel = "FILE",
      description = "A policy file of the new set; repeat for a set, in order.")
  List<Path> policies;

  @Option(names = "--price", paramLabel = "TOOL=AMOUNT",
      description = "A tool's price for spend rules without amount_from; repeatable.")
  Map<String, BigDecimal> prices = new LinkedHashMap<>();

  @Option(names = "--shared-counters",
      description = "One set of counters for the whole log (the recorded instances shared a"
          + " state store, e.g. Redis), instead of fresh counters per SafeRun instance.")
  boolean sharedCounters;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    PolicyFiles.checkPrices(spec.commandLine(), prices);
    PolicySet set = PolicyFiles.load(policies, err);
    if (set == null) {
      return Main.ERROR;
    }
    Map<String, Long> transitions = new TreeMap<>();
    Map<String, Long> byRule = new TreeMap<>();
    Replayer replayer = new Replayer(set, prices, sharedCounters, c -> {
      report(out, c);
      AuditEvent e = c.entry().event();
      String from = recorded(e);
      String to = replayed(c.replayed());
      transitions.merge(from + " -> " + to + (from.equals(to) ? " by another rule" : ""), 1L,
          Long::sum);
      String rule = c.replayed().rule() != null ? rule(c.replayed().rule(), c.replayed().policy())
          : e.rule() != null ? rule(e.rule(), e.policy()) + " no longer decides"
          : "(no rule)";
      byRule.merge(rule, 1L, Long::sum);
    });
    try {
      // Fails now, not mid-log, when a spend rule needs a price that was not given.
      dev.saferun.SafeRun.builder().policies(set).prices(prices)
          .auditSink(dev.saferun.audit.AuditSink.NONE).build();
      try (Stream<AuditLog.Entry> s = AuditLog.read(audit)) {
        s.forEach(replayer::learn);
      }
      try (Stream<AuditLog.Entry> s = AuditLog.read(audit)) {
        s.forEach(e -> {
          if (AuditCli.event(e, err)) {
            replayer.accept(e);
          }
        });
      }
      replayer.finish();
    } catch (PolicyConfigException e) {
      for (Problem p : e.problems()) {
        err.println(p + (p.message().contains("no price") ? " (use --price TOOL=AMOUNT)" : ""));
      }
      return Main.ERROR;
    } catch (IOException | UncheckedIOException | AuditException e) {
      err.println("saferun: " + AuditCli.message(e instanceof UncheckedIOException
          ? ((UncheckedIOException) e).getCause() : e));
      return Main.ERROR;
    }
    String names = policies.stream().map(p -> String.valueOf(p.getFileName()))
        .collect(Collectors.joining(", "));
    out.println("Replayed " + replayer.replayed() + " decision" + (replayer.replayed() == 1 ? ""
        : "s") + " (" + replayer.instances() + " SafeRun instance"
        + (replayer.instances() == 1 ? "" : "s") + ") under " + names + ": "
        + (replayer.changed() == 0 ? "no decision would change."
            : replayer.changed() + " would change."));
    transitions.forEach((t, n) -> out.println("  " + t + ": " + n));
    if (!byRule.isEmpty()) {
      out.println("By rule:");
      byRule.forEach((r, n) -> out.println("  " + r + ": " + n));
    }
    replayer.notes().forEach(n -> out.println("note: " + n));
    return replayer.changed() == 0 ? Main.OK : Main.FAILED;
  }

  private static void report(PrintWriter out, Replayer.Change c) {
    AuditEvent e = c.entry().event();
    String ctx = e.context().asMap().entrySet().stream().map(x -> x.getKey() + "=" + x.getValue())
        .collect(Collectors.joining(" "));
    out.println(AuditCli.source(c.entry()) + "  " + e.time() + "  " + e.tool() + " "
        + e.arguments() + (ctx.isEmpty() ? "" : "  " + ctx));
    out.println("    recorded: " + recorded(e) + by(e.rule(), e.policy(), e.type()
        == AuditEvent.Type.ALLOWED ? null : e.message()));
    Decision d = c.replayed();
    out.println("    replayed: " + replayed(d) + by(d.rule(), d.policy(), d.isAllowed() ? null
        : d.message()));
  }

  private static String recorded(AuditEvent e) {
    return AuditCli.label(e.type());
  }

  private static String replayed(Decision d) {
    return AuditCli.label(d.outcome());
  }

  private static String by(String rule, String policy, String message) {
    StringBuilder sb = new StringBuilder();
    if (rule != null) {
      sb.append(" by ").append(rule(rule, policy));
    } else if (policy != null) {
      sb.append(" (policy ").append(policy).append(')');
    }
    if (message != null) {
      sb.append(": ").append(message);
    }
    return sb.toString();
  }

  private static String rule(String rule, String policy) {
    return "rule \"" + rule + "\"" + (policy == null ? "" : " (policy " + policy + ")");
  }
}
