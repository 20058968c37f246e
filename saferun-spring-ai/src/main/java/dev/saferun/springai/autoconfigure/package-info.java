/**
 * Spring Boot 4 auto-configuration for SafeRun in Spring AI applications: the {@code SafeRun}
 * bean built from {@code saferun.*} properties and policy files (hot-reloaded), the wrapping of
 * tool callbacks and of the {@code ToolCallingManager}, the advisor added to every
 * auto-configured {@code ChatClient.Builder}, metrics and the actuator endpoint.
 */
package dev.saferun.springai.autoconfigure;
