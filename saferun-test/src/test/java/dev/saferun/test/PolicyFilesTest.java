package dev.saferun.test;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every policy test file under {@code src/test/policies}: one test per case. Shown in
 * docs/testing-policies.md (between the markers).
 */
// DOCS-BEGIN
class PolicyFilesTest {

  @TestFactory
  Stream<DynamicContainer> policyTestFiles() {
    return SafeRunTests.from("src/test/policies");
  }
}
// DOCS-END
