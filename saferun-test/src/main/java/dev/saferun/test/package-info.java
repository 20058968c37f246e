/**
 * SafeRun's test harness: {@link dev.saferun.test.FakeClock} to drive counter windows and
 * timeouts without sleeping, and the runner for policy test files (SPEC §10) used by the
 * {@code saferun test} command and by JUnit 5 through {@link dev.saferun.test.SafeRunTests}.
 */
package dev.saferun.test;
