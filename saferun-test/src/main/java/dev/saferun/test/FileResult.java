package dev.saferun.test;

import java.util.List;

/**
 * The results of one test file's cases, in file order.
 *
 * <p>Immutable and thread-safe.
 *
 * @param file the test file's path or label
 * @param cases one result per case
 */
public record FileResult(String file, List<CaseResult> cases) {

  public FileResult {
    cases = List.copyOf(cases);
  }

  /** How many cases passed. */
  public long passed() {
    return cases.stream().filter(CaseResult::passed).count();
  }

  /** How many cases failed. */
  public long failed() {
    return cases.size() - passed();
  }

  /** Whether every case passed. */
  public boolean allPassed() {
    return failed() == 0;
  }
}
