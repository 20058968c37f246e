package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands of docs/testing-policies.md, run as written. The page's {@code file=PATH} blocks
 * are written into an empty project directory; each {@code ```console} block's {@code $ saferun
 * …} (or {@code $ java -jar saferun-cli/target/saferun.jar …}) lines are run there in order, in
 * process, and what they print must be the lines that follow ({@code $ echo $?} prints the
 * previous exit code); finally each {@code generated=PATH} block must equal the file the commands
 * wrote. The Java examples and policy files are checked in saferun-test
 * ({@code TestingPoliciesDocTest}).
 */
class TestingPoliciesCliDocTest {
  static final Path DOC = Path.of("..", "docs", "testing-policies.md");
  static final List<String> PREFIXES = List.of("java -jar saferun-cli/target/saferun.jar ",
      "saferun ");

  @TempDir
  Path project;

  record Block(String info, List<String> lines, int line) {
    String attribute(String key) {
      for (String word : info.split(" ")) {
        if (word.startsWith(key + "=")) {
          return word.substring(key.length() + 1);
        }
      }
      return null;
    }
  }

  static List<Block> blocks() throws IOException {
    List<Block> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(DOC);
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).startsWith("```")) {
        continue;
      }
      String info = lines.get(i).substring(3).trim();
      int start = i;
      List<String> body = new ArrayList<>();
      for (i++; i < lines.size() && !lines.get(i).startsWith("```"); i++) {
        body.add(lines.get(i));
      }
      out.add(new Block(info, body, start + 1));
    }
    return out;
  }

  @Test
  void everyCommandPrintsWhatThePageShows() throws IOException {
    List<Block> blocks = blocks();
    for (Block b : blocks) {
      String file = b.attribute("file");
      if (file != null) {
        Path p = project.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, String.join("\n", b.lines()) + "\n");
      }
    }
    int commands = 0;
    for (Block b : blocks) {
      if (b.info().equals("console")) {
        commands += runConsole(b);
      }
    }
    assertThat(commands).as("commands on the page").isGreaterThanOrEqualTo(5);
    int generated = 0;
    for (Block b : blocks) {
      String file = b.attribute("generated");
      if (file != null) {
        assertThat(Files.readString(project.resolve(file))).as("%s vs the block at line %d",
            file, b.line()).isEqualTo(String.join("\n", b.lines()) + "\n");
        generated++;
      }
    }
    assertThat(generated).isEqualTo(1);
  }

  private int runConsole(Block b) {
    int commands = 0;
    int lastCode = 0;
    List<String> lines = b.lines();
    for (int i = 0; i < lines.size(); ) {
      String command = lines.get(i);
      assertThat(command).as("line %d of the console block at line %d starts with '$ '", i + 1,
          b.line()).startsWith("$ ");
      List<String> expected = new ArrayList<>();
      for (i++; i < lines.size() && !lines.get(i).startsWith("$ "); i++) {
        expected.add(lines.get(i));
      }
      String shell = command.substring(2);
      List<String> actual;
      if (shell.equals("echo $?")) {
        actual = List.of(String.valueOf(lastCode));
      } else {
        CliRun r = CliRun.of(args(shell));
        lastCode = r.code();
        actual = r.out().replace(project + "/", "").lines().toList();
        assertThat(r.err()).as("stderr of '%s'", shell).isEmpty();
      }
      assertThat(actual).as("output of '%s' (console block at line %d)", shell, b.line())
          .containsExactlyElementsOf(expected);
      commands++;
    }
    return commands;
  }

  /** The command's arguments, with relative paths made relative to the project directory. */
  private String[] args(String shell) {
    String rest = null;
    for (String prefix : PREFIXES) {
      if (shell.startsWith(prefix)) {
        rest = shell.substring(prefix.length());
      }
    }
    assertThat(rest).as("'%s' runs saferun", shell).isNotNull();
    String[] words = rest.split(" +");
    for (int i = 1; i < words.length; i++) {
      if (!words[i].startsWith("-")) {
        words[i] = project.resolve(words[i]).toString();
      }
    }
    return words;
  }
}
