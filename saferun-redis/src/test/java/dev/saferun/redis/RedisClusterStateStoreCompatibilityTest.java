package dev.saferun.redis;

import dev.saferun.spi.StateStore;
import dev.saferun.test.FakeClock;
import dev.saferun.test.StateStoreCompatibilityKit;

/**
 * RedisStateStore in cluster mode passes the StateStore compatibility kit of saferun-test on a
 * real three-master Redis Cluster (one cluster for the test JVM, a fresh prefix per test, so the
 * tests' slots land on every node).
 */
class RedisClusterStateStoreCompatibilityTest extends StateStoreCompatibilityKit {
  private static TestRedisCluster cluster;

  private static synchronized TestRedisCluster cluster() {
    cluster = TestRedisCluster.shared();
    return cluster;
  }

  @Override
  protected StateStore createStore(FakeClock clock) {
    return RedisStateStore.clusterBuilder(cluster().uris())
        .keyPrefix(TestRedis.uniquePrefix("cluster-kit")).commandTimeout(TestRedis.RELAXED)
        .build();
  }

  @Override
  protected void closeStore(StateStore store) {
    ((RedisStateStore) store).close();
  }
}
