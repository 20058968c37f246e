package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class MainTest {

  @Test
  void withoutACommandItPrintsUsageToStderrAndExits2() {
    CliRun r = CliRun.of();

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("Usage: saferun").contains("validate").contains("eval")
        .contains("test");
  }

  @Test
  void helpGoesToStdoutAndExits0() {
    CliRun r = CliRun.of("--help");

    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("Usage: saferun");
  }

  @Test
  void subcommandHelpDescribesExitCodes() {
    CliRun r = CliRun.of("help", "test");

    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("Usage: saferun test").contains("Exit code: 0 if every case")
        .contains("1 if a case failed, 2 if a file could not be");
  }

  @Test
  void versionIsTheBuildVersion() {
    CliRun r = CliRun.of("--version");

    assertThat(r.code()).isZero();
    assertThat(r.out().trim()).matches("saferun \\d+\\.\\d+\\.\\d+.*");
  }

  @Test
  void anUnknownCommandIsAUsageErrorWithASuggestion() {
    CliRun r = CliRun.of("valdate", "x.yaml");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("saferun: Unmatched arguments").contains("validate");
  }

  @Test
  void anUnknownOptionIsAUsageError() {
    CliRun r = CliRun.of("test", "--verbose", "x");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("saferun: Unknown option: '--verbose'")
        .contains("Run 'saferun test --help' for usage.");
  }

  @Command(name = "boom")
  static final class Boom implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new IllegalStateException("the state store is on fire");
    }
  }

  CliRun runWithBoom(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
    cmd.addSubcommand("boom", new Boom());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int code = cmd.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  @Test
  void anUnexpectedErrorIsOneLineOnStderrWithoutAStackTrace() {
    CliRun r = runWithBoom("boom");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines()).containsExactly("saferun: the state store is on fire",
        "(run with --debug for the stack trace)");
  }

  @Test
  void debugPrintsTheStackTraceWhereverTheOptionIsGiven() {
    CliRun after = runWithBoom("boom", "--debug");
    CliRun before = runWithBoom("--debug", "boom");

    for (CliRun r : new CliRun[] {after, before}) {
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.err()).startsWith("saferun: the state store is on fire")
          .contains("java.lang.IllegalStateException: the state store is on fire")
          .contains("\tat dev.saferun.cli.MainTest$Boom.call");
    }
  }
}
