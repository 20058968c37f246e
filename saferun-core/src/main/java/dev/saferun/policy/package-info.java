/**
 * The policy language (SPEC §1–9): the immutable model ({@link dev.saferun.policy.Policy},
 * {@link dev.saferun.policy.Rule}, {@link dev.saferun.policy.Condition}), the YAML loader
 * ({@link dev.saferun.policy.PolicyLoader}) and the Java builder, which share one validator.
 */
package dev.saferun.policy;
