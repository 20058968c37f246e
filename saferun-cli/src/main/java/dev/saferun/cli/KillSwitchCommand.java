package dev.saferun.cli;

import dev.saferun.Clock;
import dev.saferun.KillSwitch;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code saferun kill-switch status|engage|release --file F}: shows or changes the kill switch
 * kept in a state file that running SafeRun instances watch ({@code killSwitchFile}). Not
 * thread-safe (one instance per invocation).
 */
@Command(
    name = "kill-switch",
    description = {
        "Show or change the kill switch kept in a state file that running SafeRun instances watch"
            + " (SafeRun.builder().killSwitchFile(...)).",
        "  status   print the state; exit 0 when released, 1 when engaged",
        "  engage   stop every tool call, or those of --tool / --agent (repeatable)",
        "  release  let calls through again"})
final class KillSwitchCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ACTION", description = "status, engage or release")
  String action;

  @Option(names = "--file", required = true, paramLabel = "FILE",
      description = "The kill-switch state file.")
  Path file;

  @Option(names = "--tool", paramLabel = "NAME", description = "Stop only this tool (repeatable).")
  List<String> tools = List.of();

  @Option(names = "--agent", paramLabel = "NAME",
      description = "Stop only this agent's calls (repeatable).")
  List<String> agents = List.of();

  @Option(names = "--reason", paramLabel = "TEXT", description = "Why (shown in every denial).")
  String reason = "";

  @Option(names = "--by", paramLabel = "WHO", description = "Who does it (audited).")
  String by;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    switch (action) {
      case "status": {
        KillSwitch.State s = KillSwitch.readState(file);
        out.println(describe(s));
        return s.engaged() ? Main.FAILED : Main.OK;
      }
      case "engage": {
        requireBy();
        KillSwitch.State s = new KillSwitch.State(true, new LinkedHashSet<>(tools),
            new LinkedHashSet<>(agents), reason, by, Clock.system().instant());
        KillSwitch.writeState(file, s);
        out.println(describe(s));
        return Main.OK;
      }
      case "release": {
        requireBy();
        KillSwitch.State s = new KillSwitch.State(false, Set.of(), Set.of(), null, by,
            Clock.system().instant());
        KillSwitch.writeState(file, s);
        out.println(describe(s));
        return Main.OK;
      }
      default:
        throw new ParameterException(spec.commandLine(),
            "ACTION must be status, engage or release, got '" + action + "'");
    }
  }

  private void requireBy() {
    if (by == null || by.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--by WHO is required to " + action
          + " the kill switch (it is audited)");
    }
  }

  static String describe(KillSwitch.State s) {
    if (!s.engaged()) {
      return "kill switch: released" + (s.by() == null ? "" : " (by " + s.by() + " at "
          + s.since() + ")");
    }
    String scope = s.tools().isEmpty() && s.agents().isEmpty() ? "every tool call"
        : (s.tools().isEmpty() ? "" : "tools " + String.join(", ", s.tools()))
            + (s.tools().isEmpty() || s.agents().isEmpty() ? "" : " and ")
            + (s.agents().isEmpty() ? "" : "agents " + String.join(", ", s.agents()));
    return "kill switch: ENGAGED for " + scope + " by " + s.by() + " at " + s.since()
        + (s.reason() == null || s.reason().isEmpty() ? "" : ": " + s.reason());
  }
}
