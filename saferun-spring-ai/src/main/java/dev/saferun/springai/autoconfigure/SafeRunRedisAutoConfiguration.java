package dev.saferun.springai.autoconfigure;

import dev.saferun.redis.RedisApprovalStore;
import dev.saferun.redis.RedisStateStore;
import dev.saferun.spi.ApprovalStore;
import dev.saferun.spi.StateStore;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * {@code database}/{@code ssl.enabled}; with {@code spring.data.redis.cluster.nodes} set, the
 * stores connect to that Redis Cluster in cluster mode, with the same username, password and
 * SSL setting). Runs before {@link SafeRunAutoConfiguration}, whose
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
    String auth = auth(env);
    return (ssl ? "rediss://" : "redis://") + auth + host + ":" + port + "/" + db;
  }

  /**
   * The seed nodes of a Redis Cluster as {@code redis://} URIs when SafeRun reuses Spring Data
   * Redis's settings and {@code spring.data.redis.cluster.nodes} is set; else null (its own
   * {@code saferun.state.redis.url} always means one standalone or Sentinel Redis).
   */
  static List<String> clusterNodes(Environment env) {
    String own = env.getProperty("saferun.state.redis.url");
    String nodes = env.getProperty("spring.data.redis.cluster.nodes");
    if ((own != null && !own.isBlank()) || nodes == null || nodes.isBlank()) {
      return null;
    }
    boolean ssl = env.getProperty("spring.data.redis.ssl.enabled", Boolean.class, false);
    String auth = auth(env);
    List<String> out = new ArrayList<>();
    for (String node : nodes.split(",")) {
      if (!node.isBlank()) {
        out.add((ssl ? "rediss://" : "redis://") + auth + node.strip());
      }
    }
    return out;
  }

  private static String auth(Environment env) {
    String user = env.getProperty("spring.data.redis.username");
    String password = env.getProperty("spring.data.redis.password");
    if (password == null || password.isEmpty()) {
      return "";
    }
    return (user == null ? "" : enc(user)) + ":" + enc(password) + "@";
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(StateStore.class)
  RedisStateStore saferunRedisStateStore(Environment env) {
    List<String> cluster = clusterNodes(env);
    RedisStateStore.Builder b = (cluster != null ? RedisStateStore.clusterBuilder(cluster)
        : RedisStateStore.builder(redisUri(env)))
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
    List<String> cluster = clusterNodes(env);
    RedisApprovalStore.Builder b = (cluster != null ? RedisApprovalStore.clusterBuilder(cluster)
        : RedisApprovalStore.builder(redisUri(env)))
        .commandTimeout(env.getProperty("saferun.state.redis.command-timeout", Duration.class,
            Duration.ofMillis(250)));
    String prefix = env.getProperty("saferun.state.redis.key-prefix");
    if (prefix != null) {
      b.keyPrefix(prefix);
    }
    return b.build();
  }
}
