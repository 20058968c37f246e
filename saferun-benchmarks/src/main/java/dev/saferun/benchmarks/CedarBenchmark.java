package dev.saferun.benchmarks;

import com.cedarpolicy.BasicAuthorizationEngine;
import com.cedarpolicy.model.AuthorizationRequest;
import com.cedarpolicy.model.AuthorizationResponse;
import com.cedarpolicy.model.entity.Entity;
import com.cedarpolicy.model.exception.AuthException;
import com.cedarpolicy.model.policy.PolicySet;
import com.cedarpolicy.value.EntityTypeName;
import com.cedarpolicy.value.EntityUID;
import com.cedarpolicy.value.PrimLong;
import com.cedarpolicy.value.PrimString;
import com.cedarpolicy.value.Value;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * cedar-java (the {@code uber} jar, Cedar's Rust engine over JNI) deciding the allowed Stripe
 * charge against the equivalent policy ({@code stripe.cedar}), with the policy set cached on the
 * native side ({@link PolicySet#cache()}). Cedar is stateless, so the request carries the
 * counters' values; the arguments are passed pre-parsed (an advantage over SafeRun, which parses
 * the JSON string in its measurement).
 *
 * <p>JMH state, one instance per trial; not thread-safe outside JMH's use of it.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class CedarBenchmark {
  private BasicAuthorizationEngine engine;
  private PolicySet policies;
  private EntityUID principal;
  private EntityUID action;
  private EntityUID resource;
  private final Set<Entity> entities = Set.of();

  /** Loads the native library, parses and caches the policy set, checks the decision. */
  @Setup
  public void setUp() throws Exception {
    engine = new BasicAuthorizationEngine();
    policies = PolicySet.parsePolicies(Support.resource("stripe.cedar"));
    policies.cache();
    principal = EntityTypeName.parse("Agent").orElseThrow().of("support");
    action = EntityTypeName.parse("Action").orElseThrow().of("create_charge");
    resource = EntityTypeName.parse("Tool").orElseThrow().of("stripe");
    AuthorizationResponse r = allowedCharge();
    StripeDecisionBenchmark.check(r.success.isPresent() && r.success.get().isAllowed(),
        "Cedar does not allow the allowed charge: " + r);
  }

  /** The allowed create_charge: build the request (context from pre-parsed values), decide. */
  @Benchmark
  public AuthorizationResponse allowedCharge() throws AuthException {
    Map<String, Value> context = new HashMap<>(8);
    context.put("amount", new PrimLong(1));
    context.put("currency", new PrimString("usd"));
    context.put("customer", new PrimString("cus_123"));
    context.put("description", new PrimString("order 42"));
    context.put("daily_spend", new PrimLong(0));
    context.put("calls_per_minute", new PrimLong(0));
    return engine.isAuthorized(new AuthorizationRequest(principal, action, resource, context),
        policies, entities);
  }
}
