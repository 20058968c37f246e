package dev.saferun.redis;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * The second JVM of {@link SharedCapTest}: connects to the same Redis and prefix, prints
 * {@code ready}, waits for {@code go} on stdin, hammers the cap and prints {@code ran=N}.
 * Stateless.
 */
public final class SharedCapChild {
  private SharedCapChild() {}

  public static void main(String[] args) throws Exception {
    String uri = args[0];
    String prefix = args[1];
    int threads = Integer.parseInt(args[2]);
    int calls = Integer.parseInt(args[3]);
    try (RedisStateStore store = RedisStateStore.builder(uri).keyPrefix(prefix)
        .commandTimeout(TestRedis.RELAXED).build()) {
      var safeRun = Hammer.safeRun(store);
      CountDownLatch go = new CountDownLatch(1);
      System.out.println("ready");
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
          StandardCharsets.UTF_8));
      if (!"go".equals(in.readLine())) {
        throw new IllegalStateException("expected go");
      }
      go.countDown();
      Hammer.Result r = Hammer.run(safeRun, threads, calls, go);
      System.out.println("ran=" + r.ran() + " decided=" + r.decided());
    }
  }
}
