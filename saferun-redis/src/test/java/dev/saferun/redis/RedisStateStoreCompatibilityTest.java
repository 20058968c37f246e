package dev.saferun.redis;

import dev.saferun.spi.StateStore;
import dev.saferun.test.FakeClock;
import dev.saferun.test.StateStoreCompatibilityKit;

/** RedisStateStore passes the StateStore compatibility kit of saferun-test on a real Redis. */
class RedisStateStoreCompatibilityTest extends StateStoreCompatibilityKit {

  @Override
  protected StateStore createStore(FakeClock clock) {
    return RedisStateStore.builder(TestRedis.shared().uri())
        .keyPrefix(TestRedis.uniquePrefix("kit")).commandTimeout(TestRedis.RELAXED).build();
  }

  @Override
  protected void closeStore(StateStore store) {
    ((RedisStateStore) store).close();
  }
}
