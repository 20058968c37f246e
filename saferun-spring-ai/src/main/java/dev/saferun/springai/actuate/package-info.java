/** The {@code saferun} Spring Boot actuator endpoint: policies in force, pending approvals, approve/deny. */
package dev.saferun.springai.actuate;
