package dev.saferun.test.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Fenced code blocks of a Markdown file, and marked regions of source files, for doc tests. */
final class Markdown {
  private Markdown() {}

  /**
   * One fenced block.
   *
   * @param info the fence's info string, e.g. {@code yaml file=refunds.yaml}
   * @param text the block's lines, each ending with a newline
   * @param line the 1-based line of the opening fence
   */
  record Block(String info, String text, int line) {
    String language() {
      int space = info.indexOf(' ');
      return space < 0 ? info : info.substring(0, space);
    }

    /** The value of a {@code key=value} word of the info string, or {@code null}. */
    String attribute(String key) {
      for (String word : info.split(" ")) {
        if (word.startsWith(key + "=")) {
          return word.substring(key.length() + 1);
        }
      }
      return null;
    }
  }

  /** The documentation page, read from this module's directory ({@code ../docs/}). */
  static Path doc(String name) {
    Path p = Path.of("..", "docs", name);
    if (!Files.exists(p)) {
      throw new IllegalStateException("cannot find " + p.toAbsolutePath().normalize());
    }
    return p;
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

  /**
   * The regions of a source file between {@code // <marker>-BEGIN} and {@code // <marker>-END}
   * lines, with their common indentation removed, in order.
   */
  static List<String> marked(Path source, String marker) throws IOException {
    List<String> out = new ArrayList<>();
    List<String> cur = null;
    for (String l : Files.readAllLines(source)) {
      String t = l.trim();
      if (t.equals("// " + marker + "-BEGIN")) {
        cur = new ArrayList<>();
      } else if (t.equals("// " + marker + "-END")) {
        out.add(dedent(cur));
        cur = null;
      } else if (cur != null) {
        cur.add(l);
      }
    }
    return out;
  }

  private static String dedent(List<String> lines) {
    int min = Integer.MAX_VALUE;
    for (String l : lines) {
      if (!l.isBlank()) {
        min = Math.min(min, l.length() - l.stripLeading().length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String l : lines) {
      sb.append(l.isBlank() ? "" : l.substring(min)).append('\n');
    }
    return sb.toString();
  }

  /** GitHub's heading anchors of a Markdown file. */
  static Set<String> anchors(Path markdown) throws IOException {
    Set<String> out = new HashSet<>();
    boolean inFence = false;
    for (String line : Files.readAllLines(markdown)) {
      if (line.startsWith("```")) {
        inFence = !inFence;
      }
      if (inFence || !line.startsWith("#")) {
        continue;
      }
      String title = line.replaceFirst("^#+\\s*", "").toLowerCase(Locale.ROOT);
      out.add(title.replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
    }
    return out;
  }
}
