package dev.saferun.springai.autoconfigure;

import dev.saferun.redis.RedisApprovalStore;
import dev.saferun.redis.RedisStateStore;
import dev.saferun.spi.ApprovalStore;
import dev.saferun.spi.StateStore;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Shares SafeRun's counters and approval requests across replicas through Redis (issue 9) when
 * {@code saferun-redis} is on the classpath and either {@code saferun.state.redis.url} is set, or
 * {@code saferun.state.store=redis} asks to reuse Spring Data Redis's connection settings
 * ({@code spring.data.redis.url}, or {@code host}/{@code port}/{@code username}/{@code password}/
 * {@code database}/{@code ssl.enabled}). Runs before {@link SafeRunAutoConfiguration}, whose
 * {@code SafeRun} bean uses these stores. Both beans back off when the application defines its
 * own {@link StateStore} / {@link ApprovalStore}.
 *
 * <p>Properties: {@code saferun.state.redis.key-prefix} (default the store's own, a Cluster hash
 * tag), {@code saferun.state.redis.command-timeout} (default 250 ms: a decision is denied with
 * {@code State store unavailable} after it).
 *
 * <p>Stateless and thread-safe: configuration only.
 */
@AutoConfiguration(before = SafeRunAutoConfiguration.class)
@ConditionalOnClass(name = "dev.saferun.redis.RedisStateStore")
@ConditionalOnExpression("'${saferun.state.redis.url:}' != '' or '${saferun.state.store:}' == 'redis'")
public final class SafeRunRedisAutoConfiguration {

  /** The Redis URI SafeRun uses: its own property, else Spring Data Redis's settings. */
  static String redisUri(Environment env) {
    String own = env.getProperty("saferun.state.redis.url");
    if (own != null && !own.isBlank()) {
      return own;
    }
    String url = env.getProperty("spring.data.redis.url");
    if (url != null && !url.isBlank()) {
      return url;
    }
    boolean ssl = env.getProperty("spring.data.redis.ssl.enabled", Boolean.class, false);
    String host = env.getProperty("spring.data.redis.host", "localhost");
    int port = env.getProperty("spring.data.redis.port", Integer.class, 6379);
    int db = env.getProperty("spring.data.redis.database", Integer.class, 0);
    String user = env.getProperty("spring.data.redis.username");
    String password = env.getProperty("spring.data.redis.password");
    String auth = "";
    if (password != null && !password.isEmpty()) {
      auth = (user == null ? "" : enc(user)) + ":" + enc(password) + "@";
    }
    return (ssl ? "rediss://" : "redis://") + auth + host + ":" + port + "/" + db;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(StateStore.class)
  RedisStateStore saferunRedisStateStore(Environment env) {
    RedisStateStore.Builder b = RedisStateStore.builder(redisUri(env))
        .commandTimeout(env.getProperty("saferun.state.redis.command-timeout", Duration.class,
            Duration.ofMillis(250)));
    String prefix = env.getProperty("saferun.state.redis.key-prefix");
    if (prefix != null) {
      b.keyPrefix(prefix);
    }
    return b.build();
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(ApprovalStore.class)
  RedisApprovalStore saferunRedisApprovalStore(Environment env) {
    RedisApprovalStore.Builder b = RedisApprovalStore.builder(redisUri(env))
        .commandTimeout(env.getProperty("saferun.state.redis.command-timeout", Duration.class,
            Duration.ofMillis(250)));
    String prefix = env.getProperty("saferun.state.redis.key-prefix");
    if (prefix != null) {
      b.keyPrefix(prefix);
    }
    return b.build();
  }
}
