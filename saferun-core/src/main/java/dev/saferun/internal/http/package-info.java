/** SafeRun internals: not API, may change in any release. Do not import from outside core. */
package dev.saferun.internal.http;
