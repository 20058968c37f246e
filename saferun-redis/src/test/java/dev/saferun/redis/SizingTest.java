package dev.saferun.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.CounterKey;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Memory per counter on a fresh redis-server, for the sizing table of docs/distributed.md. Runs
 * 20,000 users in the build; {@code -Dsaferun.redis.sizing.users=1000000} measures a million.
 */
@Timeout(900)
class SizingTest {
  private static final int USERS = Integer.getInteger("saferun.redis.sizing.users", 20_000);

  private static long usedMemory(TestRedis redis) {
    for (String line : redis.admin().info("memory").split("\r?\n")) {
      if (line.startsWith("used_memory:")) {
        return Long.parseLong(line.substring("used_memory:".length()).trim());
      }
    }
    throw new IllegalStateException("no used_memory in INFO");
  }

  /** Bytes per user for one kind of per-user counter, charged as {@code charges} calls. */
  private static long bytesPerUser(TestRedis redis, RedisStateStore store, Window window,
      int charges, long spreadMillis) throws Exception {
    redis.admin().flushall();
    long before = usedMemory(redis);
    long now = System.currentTimeMillis();
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        fs.add(pool.submit(() -> {
          for (int u = first; u < USERS; u += threads) {
            CounterKey key = CounterKey.of("create_refund.daily_total", window, "user=u" + u,
                false);
            for (int c = 0; c < charges; c++) {
              store.charge(List.of(new Charge(key, new BigDecimal("12.50"),
                  new BigDecimal("1000000"), true)), now + c * spreadMillis);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(800, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(redis.admin().dbsize()).isBetween((long) USERS, USERS + 1L); // + settings
    return (usedMemory(redis) - before) / USERS;
  }

  @Test
  void memoryPerCounterKey() throws Exception {
    try (TestRedis redis = TestRedis.startOwn(false);
        RedisStateStore store = RedisStateStore.builder(redis.uri()).build()) {
      long fixed = bytesPerUser(redis, store, Window.DAY, 1, 0);
      long rolling = bytesPerUser(redis, store, Window.parse("24h"), 10, 30 * 60_000L);
      String sample = "{saferun}:c:create_refund.daily_total|24h|user=u1";
      Long usage = redis.admin().memoryUsage(sample);
      System.out.printf("sizing, %d users, default prefix: fixed-window counter %d B/user "
          + "(%.0f MB per 1M users); 24h rolling counter with 10 live buckets %d B/user "
          + "(%.0f MB per 1M users); MEMORY USAGE of one rolling key %d B%n", USERS, fixed,
          fixed / 1.048576, rolling, rolling / 1.048576, usage);
      assertThat(fixed).isLessThan(300);
      assertThat(rolling).isLessThan(500);
    }
  }
}
