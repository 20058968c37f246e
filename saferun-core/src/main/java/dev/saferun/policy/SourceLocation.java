package dev.saferun.policy;

/**
 * Where something was written: file (or label), 1-based line and column. Line 0 means unknown,
 * as for policies built in Java.
 *
 * <p>Immutable and thread-safe.
 */
public record SourceLocation(String source, int line, int column) {

  /** An unknown location in a source. */
  public static SourceLocation unknown(String source) {
    return new SourceLocation(source, 0, 0);
  }

  @Override
  public String toString() {
    return line > 0 ? source + ":" + line + ":" + column : source;
  }
}
