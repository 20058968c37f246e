package dev.saferun.spi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where tools' credentials come from. SafeRun resolves a secret only for a call it allowed, hands
 * it to the tool through {@link dev.saferun.Secrets}, and masks its value ({@code ***}) wherever it
 * could reach the model or a log: arguments, tool results, error messages and audit records.
 *
 * <p>Implementations must be thread-safe. Return {@code null} for an unknown name.
 */
@FunctionalInterface
public interface SecretResolver {

  /** The secret's value, or {@code null} when there is none by that name. */
  String resolve(String name);

  /** Secrets from environment variables. Thread-safe. */
  static SecretResolver env() {
    return System::getenv;
  }

  /**
   * Secrets from files in a directory, one secret per file named after it (as Docker and
   * Kubernetes mount them); trailing newlines are dropped. Names with path separators or
   * {@code ..} resolve to nothing. Thread-safe.
   */
  static SecretResolver files(Path directory) {
    return name -> {
      if (name == null || name.isEmpty() || name.contains("/") || name.contains("\\")
          || name.contains("..")) {
        return null;
      }
      Path f = directory.resolve(name);
      if (!Files.isRegularFile(f)) {
        return null;
      }
      try {
        return Files.readString(f, StandardCharsets.UTF_8).stripTrailing();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read secret '" + name + "'", e);
      }
    };
  }

  /** Fixed secrets (tests, or values from another vault client). Thread-safe. */
  static SecretResolver of(Map<String, String> secrets) {
    Map<String, String> copy = Map.copyOf(secrets);
    return copy::get;
  }
}
