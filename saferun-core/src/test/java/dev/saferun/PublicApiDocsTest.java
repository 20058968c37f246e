package dev.saferun;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Non-negotiable 8, checked for every module of the repository: each public top-level type has
 * javadoc, and that javadoc says whether it is thread-safe (or immutable/stateless). Enums and
 * package-info files are exempt from the thread-safety wording.
 */
class PublicApiDocsTest {
  private static final Pattern TYPE = Pattern.compile(
      "^public\\s+(?:final\\s+|abstract\\s+|sealed\\s+|non-sealed\\s+)*"
          + "(class|interface|record|enum|@interface)\\s+(\\w+)", Pattern.MULTILINE);

  @Test
  void everyPublicTypeHasJavadocThatStatesThreadSafety() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    List<String> missing = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files = s.filter(p -> p.toString().endsWith(".java"))
          .filter(p -> p.toString().contains("/src/main/java/"))
          .filter(p -> !p.toString().contains("/target/"))
          .filter(p -> !p.getFileName().toString().equals("package-info.java"))
          .toList();
    }
    assertThat(files).hasSizeGreaterThan(20);
    for (Path f : files) {
      String src = Files.readString(f);
      Matcher m = TYPE.matcher(src);
      if (!m.find()) {
        continue;
      }
      String before = src.substring(0, m.start()).stripTrailing();
      while (before.endsWith(")") || before.matches("(?s).*@\\w+$")) {
        // skip annotations between the javadoc and the declaration
        int at = before.lastIndexOf('@');
        if (at < 0) {
          break;
        }
        before = before.substring(0, at).stripTrailing();
      }
      String name = root.relativize(f).toString();
      if (!before.endsWith("*/")) {
        missing.add(name + ": no javadoc on " + m.group(2));
        continue;
      }
      String doc = before.substring(before.lastIndexOf("/**"));
      if (!m.group(1).equals("enum") && !doc.toLowerCase().matches(
          "(?s).*(thread-safe|thread safe|threadsafe|immutable|stateless|not thread).*")) {
        missing.add(name + ": javadoc of " + m.group(2) + " does not say whether it is thread-safe");
      }
    }
    assertThat(missing).isEmpty();
  }
}
