package dev.saferun.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Wait mode on virtual threads. SafeRun compiles for Java 17, which has no virtual threads, so
 * this runs {@link VirtualThreadWaitMain} in a child JVM of version 21 or newer: the one named by
 * {@code SAFERUN_TEST_JDK21}, else the newest JDK under {@code /usr/lib/jvm} (this project's
 * machines ship a Temurin 25 beside JDK 17). Skipped, saying why, when there is none.
 */
class VirtualThreadApprovalTest {

  static Optional<Path> modernJava() {
    String env = System.getenv("SAFERUN_TEST_JDK21");
    if (env != null && Files.isExecutable(Path.of(env, "bin", "java"))) {
      return Optional.of(Path.of(env, "bin", "java"));
    }
    if (Runtime.version().feature() >= 21) {
      return Optional.of(Path.of(System.getProperty("java.home"), "bin", "java"));
    }
    Path jvms = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(jvms)) {
      return Optional.empty();
    }
    try (Stream<Path> s = Files.list(jvms)) {
      return s.filter(p -> Files.isExecutable(p.resolve("bin/java")))
          .filter(p -> feature(p) >= 21)
          .max(Comparator.comparingInt(VirtualThreadApprovalTest::feature))
          .map(p -> p.resolve("bin/java"));
    } catch (java.io.IOException e) {
      return Optional.empty();
    }
  }

  private static int feature(Path jdk) {
    try {
      for (String line : Files.readAllLines(jdk.resolve("release"), StandardCharsets.UTF_8)) {
        if (line.startsWith("JAVA_VERSION=")) {
          String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
          return Integer.parseInt(v.split("[.+-]")[0]);
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }

  @Test
  void thousandVirtualThreadsWaitForApprovalAndRunOnce() throws Exception {
    Optional<Path> java = modernJava();
    assumeTrue(java.isPresent(), "no JDK 21+ found (set SAFERUN_TEST_JDK21): virtual-thread"
        + " wait mode not exercised on this machine");
    String cp = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    File log = File.createTempFile("saferun-vt", ".log");
    Process p = new ProcessBuilder(List.of(java.get().toString(), "-cp", cp,
        VirtualThreadWaitMain.class.getName()))
        .redirectErrorStream(true)
        .redirectOutput(log)
        .start();
    boolean done = p.waitFor(120, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly();
    }
    assertThat(done).as("child JVM finished").isTrue();
    String out = Files.readString(log.toPath());
    assertThat(p.exitValue()).as("child exit code; its output:\n" + out).isZero();
    assertThat(out).contains("virtual=1000 allowed=1000 ran=1000");
  }
}
