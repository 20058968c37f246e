package dev.saferun.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code saferun runs}: look at agent runs (context attribute {@code run}) in an audit log. */
@Command(name = "runs", description = "Look at one agent run in an audit log.",
    subcommands = {RunsShowCommand.class})
final class RunsCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return Main.ERROR;
  }
}
