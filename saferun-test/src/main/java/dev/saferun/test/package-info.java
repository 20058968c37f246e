/**
 * SafeRun's test harness. {@link dev.saferun.test.FakeClock} drives counter windows and approval
 * timeouts without sleeping; {@link dev.saferun.test.PolicyTester} makes calls against a policy
 * and returns AssertJ assertions ({@link dev.saferun.test.DecisionAssert}) that explain their
 * failures; {@link dev.saferun.test.RecordingAuditSink} keeps every audit event in order;
 * {@link dev.saferun.test.PolicyTestFile} runs policy test files (SPEC §10), for the
 * {@code saferun test} command and for JUnit 5 through {@link dev.saferun.test.SafeRunTests};
 * {@link dev.saferun.test.StateStoreCompatibilityKit} is the JUnit 5 suite every
 * {@link dev.saferun.spi.StateStore} implementation passes. See docs/testing-policies.md.
 */
package dev.saferun.test;
