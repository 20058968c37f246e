package dev.saferun.controls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.KillSwitch;
import dev.saferun.PolicyConfigException;
import dev.saferun.PolicySource;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.PolicySet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SPEC §8 hot reload, per-environment layouts, and the kill-switch state file. */
@Timeout(120)
class PolicySourceTest {
  @TempDir
  Path dir;

  private static String limit(int max) {
    return "version: \"1\"\nname: refunds\ntools:\n  refund:\n    rules:\n"
        + "      - name: max\n        conditions: [{path: args.amount, op: lte, value: " + max
        + "}]\n";
  }

  @Test
  void noCallIsEverEvaluatedAgainstAHalfLoadedSetDuring1000Reloads() throws Exception {
    Path file = dir.resolve("refunds.yaml");
    Files.writeString(file, limit(100));
    SafeRun s = SafeRun.builder().policies(PolicySource.load(List.of(file)))
        .auditSink(AuditSink.NONE).build();
    PolicySource source = PolicySource.builder(s, file).watch(false).start();
    String v100 = s.policies().policies().get(0).version();
    Files.writeString(file, limit(200));
    source.reloadNow();
    String v200 = s.policies().policies().get(0).version();
    assertThat(v100).isNotEqualTo(v200);

    AtomicBoolean stop = new AtomicBoolean();
    Map<String, Boolean> seen = new ConcurrentHashMap<>();
    AtomicInteger wrong = new AtomicInteger();
    AtomicInteger decisions = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> fs = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      fs.add(pool.submit(() -> {
        while (!stop.get()) {
          Decision d = s.evaluate(ToolCall.of("refund", "{\"amount\":150}"));
          decisions.incrementAndGet();
          seen.put(d.policyVersion(), Boolean.TRUE);
          boolean consistent = (d.policyVersion().equals(v200) && d.isAllowed())
              || (d.policyVersion().equals(v100) && d.isDenied() && "max".equals(d.rule()));
          if (!consistent) {
            wrong.incrementAndGet();
          }
        }
        return null;
      }));
    }
    for (int i = 0; i < 1000; i++) {
      Files.writeString(file, limit(i % 2 == 0 ? 100 : 200));
      assertThat(source.reloadNow()).isEmpty();
    }
    stop.set(true);
    for (Future<?> f : fs) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(wrong).hasValue(0);
    assertThat(decisions.get()).isGreaterThan(1000);
    assertThat(seen.keySet()).containsExactlyInAnyOrder(v100, v200);
    source.close();
  }

  /** Writes a file as deployment tools should: a temporary file renamed over the old one. */
  private static void writeAtomically(Path file, String text) throws java.io.IOException {
    Path tmp = Files.createTempFile(file.getParent(), ".tmp", ".part");
    Files.writeString(tmp, text);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void watchedFilesReloadAndABrokenFileKeepsTheLastGoodSet() throws Exception {
    Path file = dir.resolve("refunds.yaml");
    Files.writeString(file, limit(100));
    LinkedBlockingQueue<AuditEvent> events = new LinkedBlockingQueue<>();
    SafeRun s = SafeRun.builder().policies(PolicySource.load(List.of(file)))
        .auditSink(e -> {
          if (e.type().name().startsWith("POLICY_")) {
            events.add(e);
          }
        }).build();
    List<List<PolicyConfigException.Problem>> errors = Collections.synchronizedList(
        new ArrayList<>());
    try (PolicySource source = PolicySource.builder(s, dir)
        .debounce(java.time.Duration.ofMillis(20)).onError(errors::add).start()) {
      writeAtomically(file, limit(500));
      AuditEvent reloaded = events.poll(30, TimeUnit.SECONDS);
      assertThat(reloaded).isNotNull();
      assertThat(reloaded.type()).isEqualTo(AuditEvent.Type.POLICY_RELOADED);
      assertThat(s.evaluate(ToolCall.of("refund", "{\"amount\":400}")).isAllowed()).isTrue();

      writeAtomically(file, limit(500).replace("op: lte", "op: lessthan"));
      AuditEvent rejected = events.poll(30, TimeUnit.SECONDS);
      assertThat(rejected.type()).isEqualTo(AuditEvent.Type.POLICY_REJECTED);
      assertThat(rejected.message()).contains("refunds.yaml:7:42:")
          .contains("unknown operator 'lessthan'");
      assertThat(source.lastError()).isNotEmpty();
      assertThat(errors).isNotEmpty();
      // the last good set is still in force
      assertThat(s.evaluate(ToolCall.of("refund", "{\"amount\":400}")).isAllowed()).isTrue();
    }
  }

  @Test
  void perEnvironmentDirectoriesLoadTogetherInPathOrder() throws Exception {
    Files.createDirectories(dir.resolve("prod"));
    Files.createDirectories(dir.resolve("dev"));
    Files.writeString(dir.resolve("common.yaml"), "version: \"1\"\nname: common\n"
        + "default: allow\ntools:\n  \"*\":\n    rules:\n      - name: global\n"
        + "        rate_limit: 100/minute\n");
    Files.writeString(dir.resolve("prod/refunds.yaml"), "version: \"1\"\nname: prod-refunds\n"
        + "match: {environment: prod}\ndefault: allow\ntools:\n  refund:\n    rules:\n"
        + "      - name: human\n        action: require_approval\n");
    Files.writeString(dir.resolve("dev/refunds.yaml"), "version: \"1\"\nname: dev-refunds\n"
        + "match: {environment: dev}\ndefault: allow\ntools: {}\n");
    Files.writeString(dir.resolve("prod/refunds.test.yaml"), "not a policy");
    PolicySet set = PolicySource.load(List.of(dir));
    assertThat(set.policies()).extracting(p -> p.name())
        .containsExactly("common", "dev-refunds", "prod-refunds");
    SafeRun s = SafeRun.builder().policies(set).auditSink(AuditSink.NONE).build();
    assertThat(s.evaluate(ToolCall.of("refund", "{}", CallContext.of("environment", "prod")))
        .isHeld()).isTrue();
    assertThat(s.evaluate(ToolCall.of("refund", "{}", CallContext.of("environment", "dev")))
        .isAllowed()).isTrue();
    assertThatThrownBy(() -> PolicySource.load(List.of(dir.resolve("empty-dir"))))
        .isInstanceOf(RuntimeException.class);
  }

  @Test
  void killSwitchStateFileIsWrittenReadAndWatched() throws Exception {
    Path state = dir.resolve("kill-switch.json");
    CountDownLatch engagedFromFile = new CountDownLatch(1);
    SafeRun s = SafeRun.builder().policies(PolicySet.of(dev.saferun.Fixtures.policy(
            "version: \"1\"\ndefault: allow\ntools: {}\n")))
        .killSwitchFile(state).auditSink(e -> {
          if (e.type() == AuditEvent.Type.KILL_SWITCH_ENGAGED && "cli-user".equals(e.approver())) {
            engagedFromFile.countDown();
          }
        }).build();
    s.killSwitch().engage(Set.of("refund"), Set.of(), "drill", "alice");
    assertThat(Files.readString(state)).contains("\"engaged\" : true").contains("refund");
    s.killSwitch().release("alice");
    assertThat(Files.readString(state)).contains("\"engaged\" : false");
    // another process (the CLI) engages it through the file
    dev.saferun.internal.controls.KillSwitchFile.write(state, new KillSwitch.State(true, Set.of(),
        Set.of(), "incident", "cli-user", java.time.Instant.parse("2026-01-15T10:00:00Z")));
    assertThat(engagedFromFile.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(s.evaluate(ToolCall.of("any", "{}")).message())
        .isEqualTo("Kill switch engaged by cli-user: incident");
    // a new instance starts with the engaged state
    SafeRun restarted = SafeRun.builder().policies(s.policies()).killSwitchFile(state)
        .auditSink(AuditSink.NONE).build();
    assertThat(restarted.evaluate(ToolCall.of("any", "{}")).isDenied()).isTrue();
  }
}
