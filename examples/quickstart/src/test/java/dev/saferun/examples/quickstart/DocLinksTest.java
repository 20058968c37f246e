package dev.saferun.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Relative links in README.md and docs/ point at files and headings that exist. */
class DocLinksTest {
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

  @Test
  void readmeLinksResolve() throws Exception {
    checkLinks(Markdown.root().resolve("README.md"));
  }

  @Test
  void policyLanguageLinksResolve() throws Exception {
    checkLinks(Markdown.root().resolve("docs/policy-language.md"));
  }

  private static void checkLinks(Path file) throws IOException {
    String text = Files.readString(file);
    Matcher m = LINK.matcher(text);
    while (m.find()) {
      String link = m.group(1);
      if (link.startsWith("http://") || link.startsWith("https://")) {
        continue;
      }
      int hash = link.indexOf('#');
      String pathPart = hash < 0 ? link : link.substring(0, hash);
      Path target = pathPart.isEmpty() ? file : file.getParent().resolve(pathPart).normalize();
      assertThat(target).as("link %s in %s", link, file.getFileName()).exists();
      if (hash >= 0) {
        assertThat(anchors(target)).as("anchor of link %s in %s", link, file.getFileName())
            .contains(link.substring(hash + 1));
      }
    }
  }

  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
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
