package dev.saferun.benchmarks;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.ToolCall;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicyLoader;
import dev.saferun.policy.PolicySet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * How the cost of one decision grows: with the number of tools a policy lists, the number of
 * rules a tool has, the size of the arguments, the number of policies in the set, and the number
 * of threads sharing one SafeRun. Distinct per-user counters are in {@link CountersBenchmark}.
 * Every call measured is allowed; counters in memory; audit off.
 *
 * <p>JMH states, one instance per trial; not thread-safe outside JMH's use of them.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class ScalingBenchmark {

  /** A policy listing {@code tools} tools, one argument rule each; the call is to the last. */
  @State(Scope.Benchmark)
  public static class Tools {
    /** Tools listed by the policy. */
    @Param({"1", "10", "100", "1000", "10000"})
    public int tools;

    Support.Gate gate;
    ToolCall call;

    /** Builds the policy. */
    @Setup
    public void setUp() {
      // Built in Java: 10,000 tools in YAML would pass the loader's 1 MiB file limit.
      Policy.Builder b = Policy.builder("tools");
      for (int i = 0; i < tools; i++) {
        b.tool("tool_" + i, t -> t.rule("max amount", r -> r.when("args.amount", "lte", 50_000)));
      }
      gate = Support.gate(PolicySet.of(b.build()), null);
      call = ToolCall.of("tool_" + (tools - 1), "{\"amount\":1,\"currency\":\"usd\"}");
      StripeDecisionBenchmark.check(gate.decide(call).isAllowed(), "tools: denied");
    }
  }

  /** Decision cost against the number of tools listed (a hash lookup: flat). */
  @Benchmark
  public Decision toolsListed(Tools s) {
    return s.gate.decide(s.call);
  }

  /** One tool with {@code rules} argument rules, all of which pass. */
  @State(Scope.Benchmark)
  public static class Rules {
    /** Rules of the tool. */
    @Param({"1", "10", "30", "100"})
    public int rules;

    Support.Gate gate;
    final ToolCall call = ToolCall.of("create_charge", "{\"amount\":1,\"currency\":\"usd\"}");

    /** Builds the policy. */
    @Setup
    public void setUp() {
      StringBuilder y = new StringBuilder("version: \"1\"\ntools:\n  create_charge:\n"
          + "    rules:\n");
      for (int i = 0; i < rules; i++) {
        y.append("      - name: rule ").append(i).append("\n        conditions:\n")
            .append("          - {path: args.amount, op: lte, value: ").append(50_000 + i)
            .append("}\n");
      }
      gate = Support.gate(Support.policy(y.toString(), "rules.yaml"), null);
      StripeDecisionBenchmark.check(gate.decide(call).isAllowed(), "rules: denied");
    }
  }

  /** Decision cost against the number of rules evaluated (linear). */
  @Benchmark
  public Decision rulesPerTool(Rules s) {
    return s.gate.decide(s.call);
  }

  /** The allowed Stripe charge with a line-item list padding its arguments to {@code bytes}. */
  @State(Scope.Benchmark)
  public static class Arguments {
    /** Length of the arguments' JSON text (at least; padded with whole items). */
    @Param({"100", "1000", "10000", "100000"})
    public int bytes;

    Support.Gate gate;
    ToolCall call;
    String json;
    final com.fasterxml.jackson.databind.ObjectMapper mapper = FloorBenchmark.mapper();

    /** Builds the call. */
    @Setup
    public void setUp() {
      StringBuilder j = new StringBuilder("{\"amount\":1,\"currency\":\"usd\",\"customer\":"
          + "\"cus_123\",\"items\":[");
      for (int i = 0; j.length() + 2 < bytes; i++) {
        if (i > 0) {
          j.append(',');
        }
        j.append(String.format("{\"sku\":\"sku-%06d\",\"qty\":1,\"price\":1999}", i));
      }
      j.append("]}");
      gate = Support.gate(Support.stripePolicy(), null);
      json = j.toString();
      call = ToolCall.of("create_charge", json);
      StripeDecisionBenchmark.check(gate.decide(call).isAllowed(), "arguments: denied");
    }
  }

  /** Decision cost against argument size (parsing dominates: linear). */
  @Benchmark
  public Decision argumentSize(Arguments s) {
    return s.gate.decide(s.call);
  }

  /** The floor for the same arguments: Jackson parsing them alone, configured as SafeRun is. */
  @Benchmark
  public Object argumentSizeJacksonOnly(Arguments s) throws java.io.IOException {
    return s.mapper.readTree(s.json);
  }

  /** {@code policies} policies, one per agent ({@code match: agent}); the call is the last's. */
  @State(Scope.Benchmark)
  public static class Policies {
    /** Policies in the set. */
    @Param({"1", "10", "100", "1000"})
    public int policies;

    Support.Gate gate;
    ToolCall call;

    /** Builds the set from the Stripe policy, one copy per agent. */
    @Setup
    public void setUp() {
      String stripe = Support.resource("stripe.yaml");
      List<Policy> set = new ArrayList<>();
      for (int i = 0; i < policies; i++) {
        String y = stripe.replace("description: \"Stripe MCP server policies\"",
            "name: stripe-" + i + "\nmatch:\n  agent: agent-" + i);
        set.add(PolicyLoader.loadString(y, "stripe-" + i + ".yaml"));
      }
      gate = Support.gate(PolicySet.of(set), null);
      call = ToolCall.of("create_charge", Support.ALLOWED_CHARGE_JSON,
          CallContext.of("agent", "agent-" + (policies - 1)));
      StripeDecisionBenchmark.check(gate.decide(call).isAllowed(), "policies: denied");
    }
  }

  /** Decision cost against the size of the policy set (matching is a scan of the set). */
  @Benchmark
  public Decision policySetSize(Policies s) {
    return s.gate.decide(s.call);
  }

  /** One SafeRun shared by the benchmark threads: the Stripe policy, or arguments rules only. */
  @State(Scope.Benchmark)
  public static class Shared {
    Support.Gate stripe;
    Support.Gate argumentsOnly;
    final ToolCall call = ToolCall.of("create_charge", Support.ALLOWED_CHARGE_JSON);

    /** Builds both. */
    @Setup
    public void setUp() {
      stripe = Support.gate(Support.stripePolicy(), null);
      argumentsOnly = Support.gate(Support.policy("version: \"1\"\ntools:\n"
          + "  create_charge:\n    rules:\n"
          + "      - name: max single charge\n        conditions:\n"
          + "          - {path: args.amount, op: lte, value: 50000}\n"
          + "      - name: allowed currencies\n        conditions:\n"
          + "          - {path: args.currency, op: in, value: [usd, eur]}\n", "args.yaml"),
          null);
      StripeDecisionBenchmark.check(stripe.decide(call).isAllowed(), "threads: denied");
      StripeDecisionBenchmark.check(argumentsOnly.decide(call).isAllowed(), "threads: denied");
    }
  }

  /** Stripe policy, one thread (throughput). */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @Threads(1)
  public Decision threads1Stripe(Shared s) {
    return s.stripe.decide(s.call);
  }

  /** Stripe policy, two threads charging the same two counters (throughput, both threads). */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @Threads(2)
  public Decision threads2Stripe(Shared s) {
    return s.stripe.decide(s.call);
  }

  /** Argument rules only (no counters), one thread (throughput). */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @Threads(1)
  public Decision threads1ArgumentsOnly(Shared s) {
    return s.argumentsOnly.decide(s.call);
  }

  /** Argument rules only (no counters), two threads (throughput, both threads). */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @Threads(2)
  public Decision threads2ArgumentsOnly(Shared s) {
    return s.argumentsOnly.decide(s.call);
  }
}
