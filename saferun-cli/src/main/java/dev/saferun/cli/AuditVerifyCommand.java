package dev.saferun.cli;

import dev.saferun.Clock;
import dev.saferun.audit.AuditException;
import dev.saferun.audit.AuditLog;
import dev.saferun.audit.AuditLog.Verification;
import dev.saferun.audit.AuditLog.VerifyOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code saferun audit verify}: checks the hash chain of an audit log. */
@Command(
    name = "verify",
    description = {
        "Verify the hash chain of an audit log, from its first record to its last, across"
            + " rotated files. Files are checked in the order given (a directory: rotated files"
            + " by number, then the active file).",
        "Prints 'OK: ...' when intact; otherwise 'FAILED: <file>:<line>: <what>: <why>' for the"
            + " first bad record (edited, deleted, reordered, truncated, key mismatch, anchor"
            + " missing), then notes (gaps, crashes recovered from, no end record).",
        "Exit code: 0 intact, 1 tampered or damaged, 2 could not verify (no such file, keyed log"
            + " without --key-file)."})
final class AuditVerifyCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "FILE_OR_DIR", description = "Audit log files.")
  List<Path> paths;

  @Option(names = "--key-file", paramLabel = "FILE",
      description = "The HMAC key of a keyed log (the file's content, trimmed).")
  Path keyFile;

  @Option(names = "--anchor", paramLabel = "HASH",
      description = "A record hash published earlier (FileAuditSink.head()): the log must still"
          + " contain it. Detects records removed from the end and a rewritten chain.")
  String anchor;

  @Option(names = "--partial",
      description = "Accept a log whose first file continues an earlier chain (older files"
          + " removed by retention).")
  boolean partial;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Clock clock = Clock.system();
    long start = clock.monotonicNanos();
    Verification v;
    try {
      VerifyOptions options = VerifyOptions.DEFAULT.withPartial(partial).withAnchor(anchor);
      if (keyFile != null) {
        options = options.withKey(AuditLog.readKey(keyFile));
      }
      v = AuditLog.verify(paths, options);
    } catch (IOException | AuditException | IllegalArgumentException e) {
      err.println("saferun: " + AuditCli.message(e));
      return Main.ERROR;
    }
    double seconds = (clock.monotonicNanos() - start) / 1e9;
    if (v.intact()) {
      out.println(String.format(Locale.ROOT, "OK: %,d records (%,d events) in %d file%s verified"
          + " in %.2f s; head %s", v.records(), v.events(), v.files().size(),
          v.files().size() == 1 ? "" : "s", seconds, v.head()));
    } else {
      out.println("FAILED: " + v.problem());
      out.println(String.format(Locale.ROOT, "%,d records before it verified.", v.records()));
    }
    v.notes().forEach(n -> out.println("note: " + n));
    return v.intact() ? Main.OK : Main.FAILED;
  }
}
