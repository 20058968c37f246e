package dev.saferun.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.Execution;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import dev.saferun.policy.Window;
import dev.saferun.spi.Charge;
import dev.saferun.spi.CounterKey;
import dev.saferun.spi.StateStoreException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import reactor.core.Disposable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 9 faults on a Redis these tests own: killed mid-run, paused (answers nothing), absent at
 * start. SafeRun fails closed within the command timeout, never runs an unevaluated call, never
 * replays a charge after reconnecting, and recovers without a restart.
 */
@Timeout(120)
class RedisFaultTest {
  private static final String POLICY = String.join("\n",
      "version: \"1\"",
      "tools:",
      "  create_refund:",
      "    rules:",
      "      - name: daily refund total",
      "        conditions: [{path: state.create_refund.daily_total, op: lte, value: 100000000}]",
      "        state: {counter: daily_total, window: day, increment_from: args.amount}",
      "  \"*\":",
      "    rules:",
      "      - name: global",
      "        rate_limit: 100000000/day",
      "");
  private static final ToolCall REFUND = ToolCall.of("create_refund", "{\"amount\":12.50}",
      CallContext.of("user", "u1"));
  private static final int THREADS = 8;
  private static final long NO_PILE_UP_MILLIS = 1_500;

  private static SafeRun safeRun(RedisStateStore store) {
    return SafeRun.builder().policies(PolicySet.of(PolicyLoader.loadString(POLICY, "f.yaml")))
        .stateStore(store).auditSink(AuditSink.NONE).build();
  }

  /** Spins (no sleep) until {@code check} holds; for waits of microseconds. */
  private static void spinUntil(String what, Duration max, BooleanSupplier check) {
    long deadline = System.nanoTime() + max.toNanos();
    while (!check.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.onSpinWait();
    }
  }

  /** Client resources whose event bus counts connection activations (reconnects). */
  private static final class Watched implements AutoCloseable {
    final ClientResources resources = DefaultClientResources.builder()
        .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2,
            TimeUnit.MILLISECONDS)).build();
    final AtomicReference<CountDownLatch> activated = new AtomicReference<>(
        new CountDownLatch(1));
    private final Disposable subscription = resources.eventBus().get()
        .filter(e -> e instanceof ConnectionActivatedEvent)
        .subscribe(e -> activated.get().countDown());

    /** A latch opened by the next connection activation. */
    CountDownLatch nextActivation() {
      CountDownLatch l = new CountDownLatch(1);
      activated.set(l);
      return l;
    }

    @Override
    public void close() {
      subscription.dispose();
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  @Test
  void killedMidRunEveryLaterCallIsDeniedNoneRunsUnevaluatedNothingIsReplayed()
      throws Exception {
    try (TestRedis redis = TestRedis.startOwn(true);
        RedisStateStore store = RedisStateStore.builder(redis.uri())
            .keyPrefix(TestRedis.uniquePrefix("kill")).build()) {
      SafeRun s = safeRun(store);
      // phase 0: Redis up; 1: being killed; 2: dead (the kill returned); 3: being restarted
      AtomicInteger phase = new AtomicInteger();
      AtomicInteger ran = new AtomicInteger();
      AtomicInteger[] allowed = new AtomicInteger[4];
      AtomicInteger[] unavailable = new AtomicInteger[4];
      AtomicInteger allowedWhileDown = new AtomicInteger();
      for (int i = 0; i < 4; i++) {
        allowed[i] = new AtomicInteger();
        unavailable[i] = new AtomicInteger();
      }
      AtomicLong slowestOutageMillis = new AtomicLong();
      AtomicReference<String> unexpected = new AtomicReference<>();
      CountDownLatch upRunning = new CountDownLatch(200);
      CountDownLatch downDenied = new CountDownLatch(300);
      CountDownLatch recovered = new CountDownLatch(200);
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        fs.add(pool.submit(() -> {
          while (!stop.get()) {
            int p = phase.get();
            long start = System.nanoTime();
            Execution e = s.run(REFUND, call -> {
              ran.incrementAndGet();
              return "refunded";
            });
            long millis = (System.nanoTime() - start) / 1_000_000;
            Decision d = e.decision();
            boolean whollyWhileDown = p == 2 && phase.get() == 2;
            if (d.isAllowed()) {
              allowed[p].incrementAndGet();
              if (whollyWhileDown) {
                allowedWhileDown.incrementAndGet();
              }
              (p == 0 ? upRunning : p == 3 ? recovered : new CountDownLatch(0)).countDown();
            } else if (d.message().startsWith("State store unavailable: Redis at ")) {
              unavailable[p].incrementAndGet();
              if (p == 2) {
                downDenied.countDown();
                slowestOutageMillis.accumulateAndGet(millis, Math::max);
              }
            } else {
              unexpected.compareAndSet(null, d.toString());
            }
          }
          return null;
        }));
      }
      try {
        assertThat(upRunning.await(30, TimeUnit.SECONDS)).isTrue();
        phase.set(1);
        redis.kill();
        phase.set(2);
        assertThat(downDenied.await(30, TimeUnit.SECONDS)).isTrue();
        phase.set(3);
        redis.restart();
        assertThat(recovered.await(30, TimeUnit.SECONDS)).as("recovered without restart")
            .isTrue();
      } finally {
        stop.set(true);
        for (Future<?> f : fs) {
          f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
      }
      assertThat(unexpected.get()).isNull();
      // every call that started after the kill and ended before the restart began was denied
      // (one that started while Redis was dead and was evaluated after the restart may pass)
      assertThat(allowedWhileDown.get()).isZero();
      assertThat(unavailable[2].get()).isGreaterThanOrEqualTo(300);
      assertThat(slowestOutageMillis.get()).isLessThan(NO_PILE_UP_MILLIS);
      // no call ran unevaluated: the tool ran exactly for the allowed decisions
      int allowedTotal = allowed[0].get() + allowed[1].get() + allowed[2].get()
          + allowed[3].get();
      assertThat(ran.get()).isEqualTo(allowedTotal);
      // Every acknowledged charge survived (fsync always). A charge in flight at the kill (at
      // most one per thread) may have been applied with its reply lost, its call denied; a
      // replayed charge would show up as more than that.
      BigDecimal count = s.counter("_global._rate_day", REFUND.context());
      assertThat(count.intValueExact()).isBetween(allowedTotal, allowedTotal + THREADS);
      assertThat(s.counter("create_refund.daily_total", REFUND.context()))
          .isEqualByComparingTo(new BigDecimal("12.50").multiply(count));
      System.out.printf("kill mid-run: allowed before/during kill/down/after %d/%d/%d/%d, "
          + "denied while down %d, counter %s, slowest denial while down %d ms%n",
          allowed[0].get(), allowed[1].get(), allowed[2].get(), allowed[3].get(),
          unavailable[2].get(), count, slowestOutageMillis.get());
    }
  }

  @Test
  void aChargeInFlightWhenTheConnectionDropsFailsAtOnceAndIsNeverReplayed() throws Exception {
    try (TestRedis redis = TestRedis.startOwn(false);
        Watched watched = new Watched();
        RedisStateStore store = RedisStateStore.builder(redis.uri())
            .keyPrefix(TestRedis.uniquePrefix("replay")).clientResources(watched.resources)
            .commandTimeout(Duration.ofSeconds(20)).build()) {
      CounterKey key = CounterKey.of("t.c", Window.DAY, "", false);
      long now = System.currentTimeMillis();
      List<Charge> one = List.of(new Charge(key, BigDecimal.ONE, null, true));
      store.charge(one, now);
      redis.pause();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      AtomicLong tookMillis = new AtomicLong();
      Thread caller = new Thread(() -> {
        long start = System.nanoTime();
        try {
          store.charge(one, now);
        } catch (Throwable e) {
          failure.set(e);
        }
        tookMillis.set((System.nanoTime() - start) / 1_000_000);
      });
      caller.start();
      // the caller is blocked waiting for the reply: its command is on the wire
      spinUntil("the charge to be sent", Duration.ofSeconds(10),
          () -> caller.getState() == Thread.State.TIMED_WAITING
              || caller.getState() == Thread.State.WAITING);
      CountDownLatch reconnected = watched.nextActivation();
      redis.kill(); // the paused server never read the command
      caller.join(10_000);
      assertThat(failure.get()).isInstanceOf(StateStoreException.class)
          .hasMessageStartingWith("Redis at 127.0.0.1:");
      // failed when the connection dropped, long before the 20 s command timeout
      assertThat(tookMillis.get()).isLessThan(10_000L);
      redis.restart();
      // the store reconnects by itself; a replayed charge would be sent right then
      assertThat(reconnected.await(20, TimeUnit.SECONDS)).isTrue();
      assertThat(store.read(key, now)).isEqualByComparingTo("0");
      assertThat(redis.calls("hset")).isZero();
    }
  }

  @Test
  void aPausedRedisDeniesEveryCallWithinTheCommandTimeoutWithoutPilingUpThreads()
      throws Exception {
    try (TestRedis redis = TestRedis.startOwn(false);
        RedisStateStore store = RedisStateStore.builder(redis.uri())
            .keyPrefix(TestRedis.uniquePrefix("pause")).build()) {
      SafeRun s = safeRun(store);
      assertThat(s.evaluate(REFUND).isAllowed()).isTrue();
      int threadsBefore = Thread.activeCount();
      redis.pause();
      int callers = 16;
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      Set<String> messages = ConcurrentHashMap.newKeySet();
      AtomicLong slowest = new AtomicLong();
      int denied;
      try {
        List<Future<Integer>> fs = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
          fs.add(pool.submit(() -> {
            int n = 0;
            for (int i = 0; i < 3; i++) {
              long start = System.nanoTime();
              Decision d = s.evaluate(REFUND);
              slowest.accumulateAndGet((System.nanoTime() - start) / 1_000_000, Math::max);
              if (!d.isAllowed()) {
                messages.add(d.message());
                n++;
              }
            }
            return n;
          }));
        }
        denied = 0;
        for (Future<Integer> f : fs) {
          denied += f.get(30, TimeUnit.SECONDS);
        }
        // while callers were blocked, Lettuce added no threads per call
        assertThat(Thread.activeCount()).isLessThan(threadsBefore + callers + 4);
      } finally {
        pool.shutdownNow();
        redis.resume();
      }
      assertThat(denied).isEqualTo(callers * 3);
      assertThat(messages).allSatisfy(m -> assertThat(m)
          .startsWith("State store unavailable: Redis at ")
          .contains("did not answer within 250 ms"));
      // one command timeout per decision (the first read), plus scheduling slack
      assertThat(slowest.get()).isLessThan(NO_PILE_UP_MILLIS);
      // once Redis answers again, so does SafeRun (the connection was never lost)
      assertThat(s.evaluate(REFUND).isAllowed()).isTrue();
      System.out.println("paused Redis: slowest denial " + slowest.get() + " ms");
    }
  }

  @Test
  void aStoreBuiltWhileRedisIsDownDeniesAtOnceAndConnectsWhenRedisArrives() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    CounterKey key = CounterKey.of("t.c", Window.DAY, "", false);
    long now = System.currentTimeMillis();
    try (RedisStateStore store = RedisStateStore.builder("redis://127.0.0.1:" + port)
        .keyPrefix(TestRedis.uniquePrefix("absent")).build()) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> store.read(key, now)).isInstanceOf(StateStoreException.class)
          .hasMessageStartingWith("Redis at 127.0.0.1:" + port + " failed: ");
      assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(NO_PILE_UP_MILLIS);
      SafeRun s = safeRun(store);
      assertThat(s.evaluate(REFUND).message()).startsWith("State store unavailable: Redis at");
      try (TestRedis late = TestRedis.startOwnOn(port)) {
        assertThat(s.evaluate(REFUND).isAllowed()).isTrue();
        assertThat(late.calls("evalsha")).isPositive();
      }
    }
  }
}
