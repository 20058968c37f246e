package dev.saferun.springai.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.Decision;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.springai.ScriptedChatModel;
import dev.saferun.springai.autoconfigure.SafeRunPolicies.ReloadResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;

/** Hot reload of policy files: the whole set swaps, a bad file keeps the last good set. */
class PolicyReloadTest {
  @TempDir
  Path dir;

  private static String policy(int maxRefund) {
    return "version: \"1\"\n"
        + "name: support\n"
        + "default: deny\n"
        + "tools:\n"
        + "  create_refund:\n"
        + "    rules:\n"
        + "      - name: max single refund\n"
        + "        conditions: [{path: args.amount, op: lte, value: " + maxRefund + "}]\n";
  }

  /** Replaces a file in one step, as editors and config-map updates do. */
  private static void replace(Path file, String text) throws IOException {
    Path tmp = Files.createTempFile(file.getParent(), ".edit", ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static Decision refund(SafeRun safeRun, int amount) {
    return safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\":" + amount + "}"));
  }

  private SafeRunPolicies policies(Path... files) {
    List<String> locations = java.util.Arrays.stream(files).map(f -> "file:" + f).toList();
    return SafeRunPolicies.resolve(locations,
        new PathMatchingResourcePatternResolver(new DefaultResourceLoader()), false);
  }

  @Test
  void reloadSwapsTheSetAndKeepsTheLastGoodOneWhenAFileIsBroken() throws IOException {
    Path file = dir.resolve("support.yaml");
    Files.writeString(file, policy(500));
    SafeRunPolicies policies = policies(file);
    SafeRun safeRun = SafeRun.builder().policies(policies.load()).build();
    String v1 = safeRun.policies().version();

    assertThat(policies.reload(safeRun).changed()).isFalse();

    replace(file, policy(50));
    ReloadResult r = policies.reload(safeRun);
    assertThat(r.changed()).isTrue();
    assertThat(r.error()).isNull();
    assertThat(safeRun.policies().version()).isNotEqualTo(v1);
    assertThat(refund(safeRun, 60).isDenied()).isTrue();

    String v2 = safeRun.policies().version();
    replace(file, policy(50).replace("conditions:", "conditons:"));
    ReloadResult broken = policies.reload(safeRun);
    assertThat(broken.changed()).isFalse();
    assertThat(broken.error()).contains(file + ":8:9: unknown key 'conditons'");
    assertThat(safeRun.policies().version()).isEqualTo(v2);
    assertThat(refund(safeRun, 60).isDenied()).isTrue();
    assertThat(refund(safeRun, 40).isAllowed()).isTrue();
    assertThat(policies.lastReload()).isSameAs(broken);
  }

  @Test
  void policiesLoadInTheOrderGivenAndPatternsSortByName() throws IOException {
    Files.writeString(dir.resolve("b.yaml"), policy(500).replace("name: support", "name: b"));
    Files.writeString(dir.resolve("a.yaml"), policy(500).replace("name: support", "name: a"));
    SafeRunPolicies policies = SafeRunPolicies.resolve(List.of("file:" + dir + "/*.yaml"),
        new PathMatchingResourcePatternResolver(new DefaultResourceLoader()), false);

    assertThat(policies.load().policies()).extracting(p -> p.name()).containsExactly("a", "b");
    assertThat(policies.files()).hasSize(2);
  }

  @Test
  void theWatcherReloadsWhenAFileChanges() throws Exception {
    Path file = dir.resolve("support.yaml");
    Files.writeString(file, policy(500));
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ToolCallingAutoConfiguration.class,
            SafeRunAutoConfiguration.class))
        .withBean(ChatModel.class, ScriptedChatModel::new)
        .withPropertyValues("saferun.policies=file:" + file, "saferun.reload.debounce=20ms")
        .run(ctx -> {
          assertThat(ctx).hasSingleBean(PolicyFileWatcher.class);
          assertThat(ctx.getBean(PolicyFileWatcher.class).isRunning()).isTrue();
          SafeRun safeRun = ctx.getBean(SafeRun.class);
          BlockingQueue<ReloadResult> results = new LinkedBlockingQueue<>();
          ctx.getBean(SafeRunPolicies.class).addListener(results::add);

          replace(file, policy(50));
          await(results, ReloadResult::changed);
          assertThat(refund(safeRun, 60).isDenied()).isTrue();

          replace(file, "version: \"1\"\nname: [oops\n");
          ReloadResult broken = await(results, x -> x.error() != null);
          assertThat(broken.error()).startsWith(file.toString() + ":");
          assertThat(refund(safeRun, 60).isDenied()).isTrue();

          replace(file, policy(500));
          await(results, ReloadResult::changed);
          assertThat(refund(safeRun, 60).isAllowed()).isTrue();
        });
  }

  private static ReloadResult await(BlockingQueue<ReloadResult> results,
      Predicate<ReloadResult> wanted) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      ReloadResult r = results.poll(1, TimeUnit.SECONDS);
      if (r != null && wanted.test(r)) {
        return r;
      }
    }
    throw new AssertionError("no matching reload within 30s");
  }
}
