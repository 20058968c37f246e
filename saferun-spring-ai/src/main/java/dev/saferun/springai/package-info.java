/**
 * SafeRun for Spring AI 2.0: {@link dev.saferun.springai.SafeRunSpringAi} (the entry point),
 * the {@link dev.saferun.springai.SafeRunToolCallback} decorator that enforces the policy on
 * every tool call, the {@link dev.saferun.springai.SafeRunAdvisor} that hides tools per request
 * and carries identity into the tool context, and the
 * {@link dev.saferun.springai.SafeRunToolCallingManager} that answers calls to hidden or unknown
 * tools with a denial and surfaces approval holds. Spring Boot wiring lives in
 * {@code dev.saferun.springai.autoconfigure}.
 */
package dev.saferun.springai;
