package dev.saferun.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code saferun audit}: verify and query audit logs written by {@code FileAuditSink}. */
@Command(
    name = "audit",
    description = {"Verify and search audit logs (JSON Lines files written by FileAuditSink).",
        "A directory stands for the log files in it, rotated files first."},
    subcommands = {AuditVerifyCommand.class, AuditQueryCommand.class})
final class AuditCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return Main.ERROR;
  }
}
