package dev.saferun.examples.quickstart;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads fenced code blocks out of the repository's Markdown files, so tests can run them. */
final class Markdown {
  private Markdown() {}

  /**
   * One fenced block.
   *
   * @param info the fence's info string, e.g. {@code yaml} or {@code text calls}
   * @param text the block's lines, each ending with a newline
   * @param line the 1-based line of the opening fence
   */
  record Block(String info, String text, int line) {
    String language() {
      int space = info.indexOf(' ');
      return space < 0 ? info : info.substring(0, space);
    }
  }

  /** The repository root (where README.md is). */
  static Path root() {
    String p = System.getProperty("saferun.root");
    if (p != null) {
      return Path.of(p);
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("mvnw"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("cannot find the repository root from " + Path.of("")
          .toAbsolutePath());
    }
    return dir;
  }

  /** This module's directory. */
  static Path moduleDir() {
    String p = System.getProperty("quickstart.basedir");
    return p != null ? Path.of(p) : root().resolve("examples/quickstart");
  }

  /** Every fenced block of a file, in order. */
  static List<Block> blocks(Path file) throws IOException {
    List<Block> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(file);
    for (int i = 0; i < lines.size(); i++) {
      String l = lines.get(i);
      if (!l.startsWith("```")) {
        continue;
      }
      String info = l.substring(3).trim();
      int start = i;
      StringBuilder text = new StringBuilder();
      for (i++; i < lines.size() && !lines.get(i).startsWith("```"); i++) {
        text.append(lines.get(i)).append('\n');
      }
      if (i == lines.size()) {
        throw new IllegalStateException(file + ":" + (start + 1) + ": unclosed code fence");
      }
      out.add(new Block(info, text.toString(), start + 1));
    }
    return out;
  }

  /** The blocks of one language ({@code java}, {@code yaml}, …). */
  static List<Block> blocks(Path file, String language) throws IOException {
    List<Block> out = new ArrayList<>();
    for (Block b : blocks(file)) {
      if (b.language().equals(language)) {
        out.add(b);
      }
    }
    return out;
  }

  /** Text with its common leading indentation removed (each line ends with a newline). */
  static String dedent(String text) {
    String[] lines = text.split("\n", -1);
    int min = Integer.MAX_VALUE;
    for (String l : lines) {
      if (!l.isBlank()) {
        min = Math.min(min, l.length() - l.stripLeading().length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < lines.length; i++) {
      if (i == lines.length - 1 && lines[i].isEmpty()) {
        break;
      }
      String l = lines[i];
      sb.append(l.isBlank() ? "" : l.substring(Math.min(min, l.length()))).append('\n');
    }
    return sb.toString();
  }

  /**
   * The regions of a source file between {@code // <marker>-BEGIN} and {@code // <marker>-END}
   * lines, dedented, in order.
   */
  static List<String> marked(Path source, String marker) throws IOException {
    List<String> out = new ArrayList<>();
    StringBuilder cur = null;
    for (String l : Files.readAllLines(source)) {
      String t = l.trim();
      if (t.equals("// " + marker + "-BEGIN")) {
        cur = new StringBuilder();
      } else if (t.equals("// " + marker + "-END")) {
        out.add(dedent(cur.toString()));
        cur = null;
      } else if (cur != null) {
        cur.append(l).append('\n');
      }
    }
    return out;
  }
}
