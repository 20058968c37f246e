package dev.saferun.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code saferun} command line (SPEC §11): {@code validate} policy files, {@code eval} one
 * call, {@code test} policy test files. Results go to stdout, errors to stderr with a non-zero
 * exit code and no stack trace unless {@code --debug} is given.
 *
 * <p>Exit codes: 0 success; 1 a policy is invalid ({@code validate}) or a test case failed
 * ({@code test}); 2 the command could not do its job (bad usage, a file that cannot be read or
 * validated, an unexpected error).
 *
 * <p>Thread-safe: each invocation of {@link #run} builds its own command objects, so it may be
 * called from several threads at once with different writers.
 */
@Command(
    name = "saferun",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "SafeRun: a deterministic policy gate between an AI agent and its tools.",
    subcommands = {ValidateCommand.class, EvalCommand.class, TestCommand.class,
        InitCommand.class, AuditCommand.class, RunsCommand.class, ReplayCommand.class,
        KillSwitchCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {
  /** Exit code: everything checked out. */
  public static final int OK = 0;
  /** Exit code: a policy is invalid or a test case failed. */
  public static final int FAILED = 1;
  /** Exit code: bad usage, an unreadable or invalid input file, or an unexpected error. */
  public static final int ERROR = 2;

  @Option(names = "--debug", scope = ScopeType.INHERIT,
      description = "Print stack traces of errors.")
  boolean debug;

  @Spec
  CommandSpec spec;

  /** Runs the CLI and exits with its exit code. */
  public static void main(String[] args) {
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    PrintWriter out = new PrintWriter(new OutputStreamWriter(
        new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), true);
    PrintWriter err = new PrintWriter(new OutputStreamWriter(
        new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8), true);
    int code = run(args, out, err);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /**
   * Runs one command with the given output streams and returns its exit code; never calls
   * {@code System.exit}. Used by {@link #main} and by tests.
   */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    int code = commandLine(out, err).execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /** The configured command tree: exit codes, and errors as one line (stack trace on --debug). */
  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cmd = new CommandLine(new Main());
    cmd.setOut(out);
    cmd.setErr(err);
    cmd.setExitCodeExceptionMapper(e -> ERROR);
    cmd.setParameterExceptionHandler((e, args) -> {
      CommandLine c = e.getCommandLine();
      c.getErr().println("saferun: " + e.getMessage());
      if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, c.getErr())) {
        c.getErr().println("Run '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
      }
      return ERROR;
    });
    cmd.setExecutionExceptionHandler((e, c, parseResult) -> {
      c.getErr().println("saferun: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      if (debug(parseResult)) {
        e.printStackTrace(c.getErr());
      } else {
        c.getErr().println("(run with --debug for the stack trace)");
      }
      return ERROR;
    });
    return cmd;
  }

  private static boolean debug(ParseResult parseResult) {
    for (ParseResult r = parseResult; r != null; r = r.subcommand()) {
      if (r.hasMatchedOption("--debug")) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ERROR;
  }

  /** The version from the build ({@code saferun-cli.properties}). */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = Main.class.getResourceAsStream("/saferun-cli.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {"saferun " + p.getProperty("version", "(unknown version)")};
    }
  }
}
