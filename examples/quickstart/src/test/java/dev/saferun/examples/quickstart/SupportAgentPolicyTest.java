package dev.saferun.examples.quickstart;

import dev.saferun.test.SafeRunTests;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs the demo policy's test file, {@code src/test/resources/policies/support-agent.test.yaml},
 * one JUnit test per case: how a project tests its own policies with {@code saferun-test}.
 */
class SupportAgentPolicyTest {

  @TestFactory
  Stream<DynamicContainer> supportAgentPolicy() {
    return SafeRunTests.from(Markdown.moduleDir().resolve("src/test/resources/policies"));
  }
}
