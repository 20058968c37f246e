package dev.saferun.internal.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Names of audit files: the active file {@code <stem>.jsonl} and rotated files
 * {@code <stem>-<000001>.jsonl}, and the order of a list of paths. Stateless.
 */
public final class LogFiles {
  /** The suffix of every audit file. */
  public static final String SUFFIX = ".jsonl";
  private static final Pattern ROTATED = Pattern.compile("(.+)-(\\d{6,})\\.jsonl");

  private LogFiles() {}

  /** {@code audit} for {@code audit.jsonl}. */
  static String stem(Path active) {
    String name = active.getFileName().toString();
    return name.substring(0, name.length() - SUFFIX.length());
  }

  /** The rotated file number {@code index} of an active file. */
  static Path rotated(Path active, long index) {
    return active.resolveSibling(String.format("%s-%06d%s", stem(active), index, SUFFIX));
  }

  /** Numbers of the rotated files of {@code active} that exist, ascending. */
  static List<Long> rotatedIndexes(Path active) throws IOException {
    List<Long> out = new ArrayList<>();
    Path dir = active.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    String stem = stem(active);
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(p -> {
        Matcher m = ROTATED.matcher(p.getFileName().toString());
        if (m.matches() && m.group(1).equals(stem)) {
          out.add(Long.parseLong(m.group(2)));
        }
      });
    }
    out.sort(Comparator.naturalOrder());
    return out;
  }

  /**
   * The files the paths stand for: files as given, directories as their {@code *.jsonl} files,
   * grouped by log, rotated files by number, then the active file. Duplicates are dropped.
   */
  public static List<Path> expand(List<Path> paths) throws IOException {
    Set<Path> out = new LinkedHashSet<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        List<Path> files;
        try (Stream<Path> s = Files.list(p)) {
          files = s.filter(f -> f.getFileName().toString().endsWith(SUFFIX)
              && Files.isRegularFile(f)).sorted(LogFiles::compare).toList();
        }
        out.addAll(files);
      } else if (Files.exists(p)) {
        out.add(p);
      } else {
        throw new NoSuchFileException(p.toString(), null, "no such file or directory");
      }
    }
    return List.copyOf(out);
  }

  private static int compare(Path a, Path b) {
    String[] ka = key(a);
    String[] kb = key(b);
    int c = ka[0].compareTo(kb[0]);
    if (c != 0) {
      return c;
    }
    c = Long.compare(Long.parseLong(ka[1]), Long.parseLong(kb[1]));
    return c != 0 ? c : a.getFileName().toString().compareTo(b.getFileName().toString());
  }

  /** (stem, number) with the active file numbered after every rotated file. */
  private static String[] key(Path p) {
    String name = p.getFileName().toString();
    Matcher m = ROTATED.matcher(name);
    if (m.matches() && m.group(2).length() <= 18) {
      return new String[] {m.group(1), m.group(2)};
    }
    return new String[] {name.substring(0, name.length() - SUFFIX.length()),
        String.valueOf(Long.MAX_VALUE)};
  }
}
