package dev.saferun.cli;

import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditEvent.Type;
import dev.saferun.audit.AuditException;
import dev.saferun.audit.AuditLog;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code saferun runs show RUN_ID --audit FILE...}: one agent run, call by call. */
@Command(
    name = "show",
    description = {
        "Step through one agent run (the events whose context attribute 'run' is RUN_ID), in"
            + " log order: each tool call with its arguments (as audited: redacted), decision,"
            + " rule, decision latency, approvals, cost and outcome, then a summary.",
        "Exit code: 0 when the run was found, 1 when no event has that run, 2 on an error."})
final class RunsShowCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN_ID", description = "The run's id.")
  String run;

  @Option(names = "--audit", required = true, arity = "1..*", paramLabel = "FILE_OR_DIR",
      description = "Audit log files.")
  List<Path> audit;

  /** One tool call: its first decision and what followed (approvals, re-evaluation, outcome). */
  private static final class Call {
    final AuditEvent first;
    final List<AuditEvent> events = new ArrayList<>();
    boolean outcome;
    boolean approval;

    Call(AuditEvent first) {
      this.first = first;
      events.add(first);
    }
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<Call> calls = new ArrayList<>();
    Map<String, Call> byApproval = new HashMap<>();
    try (Stream<AuditLog.Entry> entries = AuditLog.read(audit)) {
      for (AuditLog.Entry e : (Iterable<AuditLog.Entry>) entries::iterator) {
        if (AuditCli.event(e, err) && run.equals(e.event().context().get("run"))) {
          place(e.event(), calls, byApproval);
        }
      }
    } catch (IOException | UncheckedIOException | AuditException e) {
      err.println("saferun: " + AuditCli.message(e instanceof UncheckedIOException
          ? ((UncheckedIOException) e).getCause() : e));
      return Main.ERROR;
    }
    if (calls.isEmpty()) {
      err.println("saferun: no event of run '" + run + "' in " + audit);
      return Main.FAILED;
    }
    AuditEvent first = calls.get(0).first;
    AuditEvent last = calls.get(calls.size() - 1).events.get(
        calls.get(calls.size() - 1).events.size() - 1);
    String ctx = first.context().asMap().entrySet().stream()
        .filter(c -> !c.getKey().equals("run")).map(c -> c.getKey() + "=" + c.getValue())
        .collect(Collectors.joining(", "));
    out.println("Run " + run + (ctx.isEmpty() ? "" : " (" + ctx + ")") + ": " + calls.size()
        + " tool call" + (calls.size() == 1 ? "" : "s") + ", " + first.time() + " to "
        + last.time());
    int i = 0;
    for (Call c : calls) {
      out.println();
      out.println("#" + ++i + "  " + c.first.time() + "  " + c.first.tool()
          + (c.first.arguments() == null ? "" : " " + c.first.arguments()));
      AuditEvent previous = c.first;
      for (AuditEvent e : c.events) {
        String args = e != c.first && e.arguments() != null
            && !e.arguments().equals(previous.arguments()) ? "with arguments " + e.arguments()
                + ", " : "";
        out.println("    " + String.format("%-16s", AuditCli.label(e.type())) + args
            + describe(e));
        if (e.arguments() != null) {
          previous = e;
        }
      }
    }
    out.println();
    out.println(summary(calls));
    return Main.OK;
  }

  private static void place(AuditEvent e, List<Call> calls, Map<String, Call> byApproval) {
    Call target = null;
    if (AuditCli.outcome(e.type()) != null) {
      if (e.approvalId() != null) {
        target = byApproval.get(e.approvalId());
      }
      if (target == null && e.approver() != null) { // a hold chained by a re-evaluation
        for (int k = calls.size() - 1; k >= 0 && target == null; k--) {
          if (calls.get(k).approval && calls.get(k).first.tool().equals(e.tool())) {
            target = calls.get(k);
          }
        }
      }
    } else if (e.type() == Type.EXECUTED || e.type() == Type.FAILED) {
      for (int k = calls.size() - 1; k >= 0 && target == null; k--) {
        Call c = calls.get(k);
        if (!c.outcome && c.first.tool().equals(e.tool())) {
          target = c;
        }
      }
    } else if (e.approvalId() != null) {
      target = byApproval.get(e.approvalId());
    }
    if (target == null) {
      target = new Call(e);
      calls.add(target);
    } else {
      target.events.add(e);
    }
    if (e.approvalId() != null) {
      byApproval.put(e.approvalId(), target);
      target.approval = true;
    }
    if (e.type() == Type.EXECUTED || e.type() == Type.FAILED) {
      target.outcome = true;
    }
  }

  private static String describe(AuditEvent e) {
    List<String> parts = new ArrayList<>();
    switch (e.type()) {
      case ALLOWED:
      case DENIED:
      case HELD:
        String who = e.rule() != null ? "rule \"" + e.rule() + "\""
            + (e.policy() == null ? "" : " (policy " + e.policy() + ")")
            : e.policy() != null ? "policy " + e.policy() : null;
        String reason = e.type() == Type.ALLOWED || e.message() == null ? null : e.message();
        if (who != null && reason != null) {
          parts.add(who + ": " + reason);
        } else if (who != null) {
          parts.add(who);
        } else if (reason != null) {
          parts.add(reason);
        }
        if (e.approver() != null) {
          parts.add("after approval by " + e.approver());
        } else if (e.type() == Type.HELD && e.approvalId() != null) {
          parts.add("approval " + e.approvalId());
        }
        if (e.shadow() != null) {
          parts.add("shadow: would be " + AuditCli.label(e.shadow().outcome())
              + (e.shadow().rule() == null ? "" : " by rule \"" + e.shadow().rule() + "\""));
        }
        if (e.cost() != null) {
          parts.add("cost " + e.cost().toPlainString());
        }
        parts.add("decided in " + AuditCli.ms(e.decisionNanos()));
        break;
      case EXECUTED:
        parts.add("in " + AuditCli.ms(e.toolNanos()));
        break;
      case FAILED:
        parts.add("after " + AuditCli.ms(e.toolNanos()) + ": " + e.message());
        break;
      default: // approval decisions: the message names the approver
        if (e.message() != null) {
          parts.add(e.message());
        } else if (e.approver() != null) {
          parts.add("by " + e.approver());
        }
        parts.add("at " + e.time());
    }
    return String.join(", ", parts);
  }

  private static String summary(List<Call> calls) {
    Map<Type, Integer> first = new EnumMap<>(Type.class);
    Map<Type, Integer> all = new EnumMap<>(Type.class);
    BigDecimal cost = null;
    long toolNanos = 0;
    for (Call c : calls) {
      first.merge(c.first.type(), 1, Integer::sum);
      for (AuditEvent e : c.events) {
        all.merge(e.type(), 1, Integer::sum);
        if (e.cost() != null && AuditCli.outcome(e.type()) != null) {
          cost = cost == null ? e.cost() : cost.add(e.cost());
        }
        toolNanos += e.toolNanos();
      }
    }
    Map<String, Integer> held = new LinkedHashMap<>();
    for (Type t : List.of(Type.APPROVED, Type.APPROVAL_DENIED, Type.EXPIRED)) {
      if (all.containsKey(t)) {
        held.put(t == Type.APPROVAL_DENIED ? "denied by an approver" : AuditCli.label(t),
            all.get(t));
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(calls.size()).append(" call").append(calls.size() == 1 ? "" : "s").append(": ")
        .append(first.getOrDefault(Type.ALLOWED, 0)).append(" allowed, ")
        .append(first.getOrDefault(Type.DENIED, 0)).append(" denied, ")
        .append(first.getOrDefault(Type.HELD, 0)).append(" held");
    if (!held.isEmpty()) {
      sb.append(" (").append(held.entrySet().stream().map(h -> h.getValue() + " " + h.getKey())
          .collect(Collectors.joining(", "))).append(')');
    }
    sb.append("; ").append(all.getOrDefault(Type.EXECUTED, 0)).append(" executed, ")
        .append(all.getOrDefault(Type.FAILED, 0)).append(" failed");
    if (cost != null) {
      sb.append("; cost ").append(cost.toPlainString());
    }
    sb.append("; tool time ").append(AuditCli.ms(toolNanos));
    return sb.toString();
  }
}
