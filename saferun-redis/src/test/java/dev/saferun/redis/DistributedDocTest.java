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
 * docs/distributed.md: its Java example is the code between the doc markers below (checked
 * line by line) and runs against a real Redis; its relative links resolve.
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
    assertThat(javaBlock()).isEqualTo(markedRegion());
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

  private static List<String> javaBlock() throws Exception {
    List<String> out = new ArrayList<>();
    boolean in = false;
    for (String line : Files.readAllLines(DOC)) {
      if (line.equals("```java")) {
        in = true;
      } else if (in && line.equals("```")) {
        return out;
      } else if (in) {
        out.add(line.strip());
      }
    }
    throw new AssertionError("no java block in " + DOC);
  }

  private static List<String> markedRegion() throws Exception {
    Path self = Path.of("src", "test", "java", "dev", "saferun", "redis",
        "DistributedDocTest.java");
    List<String> out = new ArrayList<>();
    boolean in = false;
    for (String line : Files.readAllLines(self)) {
      if (line.strip().equals("// doc:start")) {
        in = true;
      } else if (line.strip().equals("// doc:end")) {
        return out;
      } else if (in) {
        out.add(line.strip());
      }
    }
    throw new AssertionError("no doc markers in " + self);
  }
}
