package dev.saferun.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.CallContext;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/distributed.md: its first Java example is the code between the doc markers below
 * (checked line by line) and runs against a real Redis; its relative links resolve. The Redis
 * Cluster example is checked the same way by {@link RedisClusterTest}.
 */
class DistributedDocTest {
  private static final Path DOC = Path.of("..", "docs", "distributed.md");

  @Test
  void theJavaExampleIsThisCodeAndItRuns() throws Exception {
    TestRedis redis = TestRedis.shared();
    String redisUrl = redis.uri();
    String deployment = TestRedis.uniquePrefix("doc").replace("{", "").replace("}:", "");
    PolicySet policies = PolicySet.of(PolicyLoader.loadString(Hammer.CAP_POLICY, "cap.yaml"));
    // doc:start
    RedisStateStore counters = RedisStateStore.builder(redisUrl)
        .keyPrefix("{saferun:" + deployment + "}:")   // one prefix per deployment
        .commandTimeout(Duration.ofMillis(250))       // deny when Redis is slower than this
        .build();
    RedisApprovalStore approvals = RedisApprovalStore.builder(redisUrl)
        .keyPrefix("{saferun:" + deployment + "}:")
        .build();
    SafeRun safeRun = SafeRun.builder()
        .policies(policies)
        .stateStore(counters)
        .approvalStore(approvals)
        .build();
    // doc:end
    try (counters; approvals) {
      SafeRun quiet = SafeRun.builder().policies(policies).stateStore(counters)
          .approvalStore(approvals).auditSink(AuditSink.NONE).build();
      ToolCall refund = ToolCall.of("create_refund", "{\"amount\":12.50}",
          CallContext.of("user", "u1"));
      assertThat(safeRun.evaluate(refund).isAllowed()).isTrue();
      assertThat(quiet.counter("create_refund.daily_total", refund.context()))
          .isEqualByComparingTo("12.50");
    }
    assertThat(javaBlock(0)).isEqualTo(markedRegion("DistributedDocTest.java", "doc"));
  }

  @Test
  void relativeLinksResolve() throws Exception {
    Matcher m = Pattern.compile("\\]\\(([^)\\s#]+)(#[^)]*)?\\)").matcher(Files.readString(DOC));
    while (m.find()) {
      String link = m.group(1);
      if (!link.startsWith("http")) {
        assertThat(DOC.getParent().resolve(link)).as("link %s", link).exists();
      }
    }
  }

  /** The lines (stripped) of the doc's {@code index}-th java block (0 is the first). */
  static List<String> javaBlock(int index) throws Exception {
    List<String> out = new ArrayList<>();
    boolean in = false;
    int seen = 0;
    for (String line : Files.readAllLines(DOC)) {
      if (line.equals("```java")) {
        in = true;
      } else if (in && line.equals("```")) {
        if (seen++ == index) {
          return out;
        }
        in = false;
        out.clear();
      } else if (in) {
        out.add(line.strip());
      }
    }
    throw new AssertionError("no java block " + index + " in " + DOC);
  }

  /** The lines (stripped) between {@code // <marker>:start} and {@code :end} in a test file. */
  static List<String> markedRegion(String testFile, String marker) throws Exception {
    Path self = Path.of("src", "test", "java", "dev", "saferun", "redis", testFile);
    List<String> out = new ArrayList<>();
    boolean in = false;
    for (String line : Files.readAllLines(self)) {
      if (line.strip().equals("// " + marker + ":start")) {
        in = true;
      } else if (line.strip().equals("// " + marker + ":end")) {
        return out;
      } else if (in) {
        out.add(line.strip());
      }
    }
    throw new AssertionError("no " + marker + " markers in " + self);
  }
}
