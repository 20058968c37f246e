package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.KillSwitch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code saferun kill-switch}: status, engage, release on a state file. */
class KillSwitchCommandTest {
  @TempDir
  Path dir;

  private int run(StringWriter out, StringWriter err, String... args) {
    return Main.run(args, new PrintWriter(out), new PrintWriter(err));
  }

  @Test
  void engageStatusRelease() {
    Path f = dir.resolve("ks.json");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertThat(run(out, err, "kill-switch", "status", "--file", f.toString())).isZero();
    assertThat(out.toString()).contains("kill switch: released");
    assertThat(run(out, err, "kill-switch", "engage", "--file", f.toString(), "--tool",
        "create_refund", "--reason", "refund storm", "--by", "oncall")).isZero();
    KillSwitch.State s = KillSwitch.readState(f);
    assertThat(s.engaged()).isTrue();
    assertThat(s.tools()).containsExactly("create_refund");
    StringWriter status = new StringWriter();
    assertThat(run(status, err, "kill-switch", "status", "--file", f.toString())).isEqualTo(1);
    assertThat(status.toString()).contains("ENGAGED for tools create_refund by oncall")
        .contains("refund storm");
    assertThat(run(out, err, "kill-switch", "release", "--file", f.toString(), "--by",
        "oncall")).isZero();
    assertThat(KillSwitch.readState(f).engaged()).isFalse();
  }

  @Test
  void engagingNeedsAnIdentityAndAKnownAction() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertThat(run(out, err, "kill-switch", "engage", "--file", dir.resolve("k").toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--by WHO is required");
    assertThat(run(out, err, "kill-switch", "pause", "--file", dir.resolve("k").toString()))
        .isEqualTo(2);
  }
}
