package dev.saferun.policy;

import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;

/**
 * A counter a rule charges ({@code state:}, SPEC §4.1), or the counter behind a
 * {@code rate_limit} / {@code spend} shorthand.
 *
 * <p>Immutable and thread-safe.
 *
 * @param scope the tool name, or {@code _global} for counters of {@code "*"} rules
 * @param name the counter's name within its scope
 * @param window its window
 * @param increment the fixed increment (when {@code incrementFrom} is null), exact, {@code > 0}
 * @param incrementFrom an {@code args.} path giving the increment, or {@code null}
 * @param per context attributes that split the counter, possibly empty
 */
public record Counter(String scope, String name, Window window, BigDecimal increment,
    String incrementFrom, List<String> per) {

  public Counter {
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(window, "window");
    per = List.copyOf(per);
  }

  /** {@code <scope>.<name>}, the counter's identity before window and {@code per} values. */
  public String qualifiedName() {
    return scope + "." + name;
  }
}
