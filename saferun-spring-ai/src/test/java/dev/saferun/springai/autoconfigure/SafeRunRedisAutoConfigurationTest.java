package dev.saferun.springai.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.SafeRun;
import dev.saferun.redis.RedisApprovalStore;
import dev.saferun.redis.RedisStateStore;
import dev.saferun.spi.ApprovalStore;
import dev.saferun.spi.StateStore;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.mock.env.MockEnvironment;

/**
 * Redis-backed state is configured from {@code saferun.state.redis.url} or Spring Data Redis's
 * settings, and not otherwise. The stores connect lazily, so no Redis is needed to wire them.
 */
class SafeRunRedisAutoConfigurationTest {
  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(SafeRunRedisAutoConfiguration.class,
          SafeRunAutoConfiguration.class))
      .withPropertyValues("saferun.policies=classpath:policies/support.yaml", "saferun.reload.enabled=false");

  @Test
  void redisUrlMakesSafeRunUseRedisForCountersAndApprovals() {
    runner.withPropertyValues("saferun.state.redis.url=redis://127.0.0.1:6399/0",
            "saferun.state.redis.key-prefix={test}:")
        .run(ctx -> {
          assertThat(ctx).hasSingleBean(StateStore.class).hasSingleBean(ApprovalStore.class);
          assertThat(ctx.getBean(StateStore.class)).isInstanceOf(RedisStateStore.class);
          assertThat(ctx.getBean(ApprovalStore.class)).isInstanceOf(RedisApprovalStore.class);
        });
  }

  @Test
  void withoutThePropertyNothingRedisIsCreated() {
    runner.run(ctx -> {
      assertThat(ctx).doesNotHaveBean(RedisStateStore.class);
      assertThat(ctx).doesNotHaveBean(RedisApprovalStore.class);
    });
  }

  @Test
  void springDataRedisSettingsAreReusedOnRequest() {
    MockEnvironment env = new MockEnvironment()
        .withProperty("spring.data.redis.host", "cache.internal")
        .withProperty("spring.data.redis.port", "6380")
        .withProperty("spring.data.redis.password", "p@ss")
        .withProperty("spring.data.redis.database", "2");
    assertThat(SafeRunRedisAutoConfiguration.redisUri(env))
        .isEqualTo("redis://:p%40ss@cache.internal:6380/2");
    assertThat(SafeRunRedisAutoConfiguration.redisUri(new MockEnvironment()
        .withProperty("saferun.state.redis.url", "redis://a:1")
        .withProperty("spring.data.redis.url", "redis://b:2"))).isEqualTo("redis://a:1");
    runner.withPropertyValues("saferun.state.store=redis", "spring.data.redis.port=6399")
        .run(ctx -> assertThat(ctx.getBean(StateStore.class)).isInstanceOf(RedisStateStore.class));
  }

  @Test
  void springDataRedisClusterNodesSelectClusterMode() {
    assertThat(SafeRunRedisAutoConfiguration.clusterNodes(new MockEnvironment()
        .withProperty("spring.data.redis.cluster.nodes", "n1:7000, n2:7001")
        .withProperty("spring.data.redis.username", "app")
        .withProperty("spring.data.redis.password", "p@ss")))
        .containsExactly("redis://app:p%40ss@n1:7000", "redis://app:p%40ss@n2:7001");
    // SafeRun's own URL is one standalone or Sentinel Redis, whatever Spring Data says
    assertThat(SafeRunRedisAutoConfiguration.clusterNodes(new MockEnvironment()
        .withProperty("saferun.state.redis.url", "redis://a:1")
        .withProperty("spring.data.redis.cluster.nodes", "n1:7000"))).isNull();
    runner.withPropertyValues("saferun.state.store=redis",
            "spring.data.redis.cluster.nodes=127.0.0.1:6398,127.0.0.1:6399")
        .run(ctx -> {
          assertThat(ctx.getBean(StateStore.class)).isInstanceOf(RedisStateStore.class);
          assertThat(ctx.getBean(StateStore.class).toString())
              .contains("cluster 127.0.0.1:6398,127.0.0.1:6399");
          assertThat(ctx.getBean(ApprovalStore.class).toString())
              .contains("cluster 127.0.0.1:6398,127.0.0.1:6399");
        });
  }

  @Test
  void aClusterKeyPrefixWithoutAHashTagStopsTheApplicationWithTheReason() {
    runner.withPropertyValues("saferun.state.store=redis",
            "spring.data.redis.cluster.nodes=127.0.0.1:6399",
            "saferun.state.redis.key-prefix=saferun:")
        .run(ctx -> assertThat(ctx).getFailure().rootCause()
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("keyPrefix 'saferun:' has no hash tag"));
  }

  @Test
  void anApplicationStoreWins() {
    runner.withPropertyValues("saferun.state.redis.url=redis://127.0.0.1:6399/0")
        .withBean(StateStore.class, () -> StateStore.inMemory(dev.saferun.Clock.system()))
        .run(ctx -> {
          assertThat(ctx.getBean(StateStore.class)).isNotInstanceOf(RedisStateStore.class);
          assertThat(ctx).hasSingleBean(SafeRun.class);
        });
  }
}
