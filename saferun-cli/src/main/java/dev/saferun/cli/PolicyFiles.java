package dev.saferun.cli;

import dev.saferun.PolicyConfigException;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** What the commands that evaluate calls share: checking {@code --price}, loading a policy set. Stateless. */
final class PolicyFiles {
  private PolicyFiles() {}

  /** Refuses negative {@code --price} values as a usage error. */
  static void checkPrices(CommandLine cmd, Map<String, BigDecimal> prices) {
    for (Map.Entry<String, BigDecimal> p : prices.entrySet()) {
      if (p.getValue().signum() < 0) {
        throw new ParameterException(cmd, "--price " + p.getKey() + " must be >= 0, got "
            + p.getValue().toPlainString());
      }
    }
  }

  /**
   * Loads the files as one ordered policy set; prints every problem of every file that does not
   * load (as {@code file:line:col: message}) and returns {@code null} then.
   */
  static PolicySet load(List<Path> files, PrintWriter err) {
    List<Policy> loaded = new ArrayList<>();
    boolean failed = false;
    for (Path file : files) {
      try {
        loaded.add(PolicyLoader.load(file));
      } catch (PolicyConfigException e) {
        failed = true;
        e.problems().forEach(err::println);
      }
    }
    return failed ? null : PolicySet.of(loaded);
  }
}
