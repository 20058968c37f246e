package dev.saferun.spi;

import dev.saferun.SafeRunException;

/**
 * A {@link StateStore} could not answer (connection lost, timeout). SafeRun denies the call with
 * {@code State store unavailable: <message>}. Immutable.
 */
public class StateStoreException extends SafeRunException {
  private static final long serialVersionUID = 1L;

  public StateStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
