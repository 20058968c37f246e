package dev.saferun.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/audit.md, run as written: its {@code file=NAME} blocks are written into an empty
 * directory, then every {@code ```console} block's {@code $ saferun …} lines run there in order,
 * in process, and must print the lines that follow ({@code …} matches anything: times, hashes,
 * approval ids; {@code $ echo $?} prints the previous exit code). {@code ```text} blocks are
 * illustrations and are not run.
 */
class AuditDocTest {
  static final Path DOC = Path.of("..", "docs", "audit.md");

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

  /** Fenced blocks, also indented ones (inside list items), with the indentation removed. */
  static List<Block> blocks() throws IOException {
    List<Block> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(DOC);
    for (int i = 0; i < lines.size(); i++) {
      String l = lines.get(i);
      String trimmed = l.stripLeading();
      if (!trimmed.startsWith("```")) {
        continue;
      }
      int indent = l.length() - trimmed.length();
      String info = trimmed.substring(3).trim();
      int start = i;
      List<String> body = new ArrayList<>();
      for (i++; i < lines.size() && !lines.get(i).stripLeading().startsWith("```"); i++) {
        String b = lines.get(i);
        body.add(b.length() >= indent ? b.substring(indent) : b.stripLeading());
      }
      out.add(new Block(info, body, start + 1));
    }
    return out;
  }

  @Test
  void everyCommandPrintsWhatThePageShows() throws IOException {
    List<Block> blocks = blocks();
    int files = 0;
    for (Block b : blocks) {
      String file = b.attribute("file");
      if (file != null) {
        Files.writeString(project.resolve(file), String.join("\n", b.lines()) + "\n");
        files++;
      }
    }
    assertThat(files).isEqualTo(3);
    int commands = 0;
    for (Block b : blocks) {
      if (b.info().equals("console")) {
        commands += run(b);
      }
    }
    assertThat(commands).as("commands on the page").isGreaterThanOrEqualTo(9);
  }

  private int run(Block b) {
    int commands = 0;
    int lastCode = 0;
    List<String> lines = b.lines();
    for (int i = 0; i < lines.size(); ) {
      String command = lines.get(i);
      assertThat(command).as("line %d of the console block at line %d", i + 1, b.line())
          .startsWith("$ ");
      List<String> expected = new ArrayList<>();
      for (i++; i < lines.size() && !lines.get(i).startsWith("$ "); i++) {
        expected.add(lines.get(i));
      }
      String shell = command.substring(2);
      List<String> actual;
      if (shell.equals("echo $?")) {
        actual = List.of(String.valueOf(lastCode));
      } else {
        assertThat(shell).as("console block at line %d runs saferun", b.line())
            .startsWith("saferun ");
        CliRun r = CliRun.of(args(shell.substring("saferun ".length())));
        lastCode = r.code();
        actual = r.out().replace(project + "/", "").lines().toList();
        assertThat(r.err()).as("stderr of '%s'", shell).isEmpty();
      }
      assertThat(actual).as("output of '%s' (block at line %d)", shell, b.line())
          .hasSameSizeAs(expected);
      for (int k = 0; k < expected.size(); k++) {
        assertThat(actual.get(k)).as("line %d of '%s' (block at line %d)", k + 1, shell,
            b.line()).matches(pattern(expected.get(k)));
      }
      commands++;
    }
    return commands;
  }

  /** The expected line, literally, except that {@code …} matches anything. */
  private static Pattern pattern(String expected) {
    StringBuilder regex = new StringBuilder();
    String[] parts = expected.split("…", -1);
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        regex.append(".*");
      }
      regex.append(Pattern.quote(parts[i]));
    }
    return Pattern.compile(regex.toString());
  }

  /** The words of a command, file names resolved in the project directory. */
  private String[] args(String rest) {
    String[] words = rest.split(" +");
    for (int i = 0; i < words.length; i++) {
      if (words[i].endsWith(".jsonl") || words[i].endsWith(".yaml")) {
        words[i] = project.resolve(words[i]).toString();
      }
    }
    return words;
  }
}
