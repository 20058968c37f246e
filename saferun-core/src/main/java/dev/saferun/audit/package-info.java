/** The audit event model and the {@link dev.saferun.audit.AuditSink} SPI with its contract. */
package dev.saferun.audit;
