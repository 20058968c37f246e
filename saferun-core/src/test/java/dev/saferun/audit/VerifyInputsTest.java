package dev.saferun.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.audit.AuditLog.ProblemKind;
import dev.saferun.audit.AuditLog.Verification;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What verify says about inputs that are not (whole) audit logs. */
class VerifyInputsTest {
  @TempDir
  Path dir;

  @Test
  void aFileThatIsNotAnAuditLogCannotBeVerified() throws IOException {
    Path other = Files.writeString(dir.resolve("app.jsonl"), "{\"level\":\"info\",\"msg\":\"hi\"}\n");

    assertThatThrownBy(() -> AuditLog.verify(List.of(other))).isInstanceOf(AuditException.class)
        .hasMessage(other + " is not a SafeRun audit log (its first line is not an audit"
            + " record)");
  }

  @Test
  void anEmptyFileHoldsNoRecord() throws IOException {
    Path empty = Files.createFile(dir.resolve("audit.jsonl"));

    Verification v = AuditLog.verify(List.of(empty));

    assertThat(v.intact()).isFalse();
    assertThat(v.problem().kind()).isEqualTo(ProblemKind.TRUNCATED);
    assertThat(v.problem().message()).startsWith("the log holds no complete record");
  }

  @Test
  void aDirectoryWithoutLogsAndAMissingPathAreErrors() throws IOException {
    Files.createDirectories(dir.resolve("empty"));

    assertThatThrownBy(() -> AuditLog.verify(List.of(dir.resolve("empty"))))
        .isInstanceOf(AuditException.class).hasMessageContaining("no audit log files");
    assertThatThrownBy(() -> AuditLog.read(List.of(dir.resolve("empty"))))
        .isInstanceOf(AuditException.class).hasMessageContaining("no audit log files");
    assertThatThrownBy(() -> AuditLog.verify(List.of(dir.resolve("nope.jsonl"))))
        .isInstanceOf(NoSuchFileException.class);
  }
}
