/**
 * The {@code saferun} command line: {@code validate}, {@code eval} and {@code test}
 * (SPEC §11). Entry point {@link dev.saferun.cli.Main}.
 */
package dev.saferun.cli;
