package dev.saferun.spi;

import java.math.BigDecimal;
import java.util.List;

/**
 * Where counters live: in memory for one JVM, or shared (Redis) across replicas. Implementations
 * prove SPEC §4 semantics by passing {@code StateStoreCompatibilityKit} from {@code saferun-test}.
 *
 * <p><b>Contract.</b> Implementations are thread-safe. Every method may be called concurrently
 * from any thread making a tool call. Time is passed in ({@code nowMillis}, wall clock): stores
 * never read a clock themselves. A store that cannot answer throws; SafeRun then denies the call
 * (fail closed) with a message naming the failure. Windows follow {@link dev.saferun.policy.Window}:
 * fixed windows reset at their UTC boundary; rolling windows count every bucket that overlaps
 * {@code (now - length, now]}.
 */
public interface StateStore {

  /**
   * Atomically checks every limited charge and, if all fit, adds every amount. Two checks, both
   * on the values before this call plus this call's charges: first in order, the running value
   * of each charge's counter (the first charge that passes its limit is refused); then each
   * limit against its counter's value after <em>all</em> of this call's charges to it, so
   * several charges of one counter never pass a limit together. Either all counters are charged
   * or none is; no interleaving of concurrent calls may push a counter past its limit.
   */
  ChargeResult charge(List<Charge> charges, long nowMillis);

  /** Takes back the charges of a receipt (from the buckets they went into, while still live). */
  void refund(ChargeReceipt receipt);

  /** The counter's current value over its window; 0 when never charged. */
  BigDecimal read(CounterKey key, long nowMillis);

  /**
   * Records one attempt on a loop-breaker counter (no limit) and returns the number of attempts
   * in the window <em>before</em> this one.
   */
  long recordAttempt(CounterKey key, long nowMillis);

  /**
   * Counters kept in this JVM, dropped once idle for a whole window plus one bucket (measured on
   * {@code clock}). Idle counters are swept at most every 10 s of clock time, when new counters
   * have appeared, on a shared daemon thread, never on the thread making a decision. The default store. Thread-safe.
   */
  static StateStore inMemory(dev.saferun.Clock clock) {
    return new dev.saferun.internal.state.InMemoryStateStore(clock);
  }

  /**
   * As {@link #inMemory(dev.saferun.Clock)}, with the sweeps of idle counters run on
   * {@code maintenance} (your own executor; {@code Runnable::run} sweeps on the charging thread,
   * which makes eviction deterministic in tests).
   */
  static StateStore inMemory(dev.saferun.Clock clock, java.util.concurrent.Executor maintenance) {
    return new dev.saferun.internal.state.InMemoryStateStore(clock, maintenance);
  }
}
