package dev.saferun.test.examples;

import dev.saferun.spi.StateStore;
import dev.saferun.test.FakeClock;
import dev.saferun.test.StateStoreCompatibilityKit;

// DOCS-BEGIN
/** The default in-memory store passes the StateStore compatibility kit (SPEC §4). */
class InMemoryStateStoreTest extends StateStoreCompatibilityKit {
  @Override
  protected StateStore createStore(FakeClock clock) {
    return StateStore.inMemory(clock);
  }
}
// DOCS-END
