package dev.saferun.benchmarks;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
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
 * The floor under a SafeRun decision for the Stripe policy: the same four checks written by hand
 * on pre-parsed arguments (two window counters in plain fields, no locking, no decision object);
 * Jackson parsing the same JSON alone; and the two together. Nothing a policy engine does can be
 * cheaper than the last.
 *
 * <p>JMH state, one instance per trial; not thread-safe (the hand-written counters are plain
 * fields).
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class FloorBenchmark {
  private static final long MINUTE = 60_000L;
  private static final long DAY = 86_400_000L;

  /** Pre-parsed arguments of create_charge. */
  record ChargeArgs(long amount, String currency, String customer, String description) {}

  private final ChargeArgs preParsed = new ChargeArgs(1, "usd", "cus_123", "order 42");
  private final String json = Support.ALLOWED_CHARGE_JSON;
  private final Support.SteppingClock clock = new Support.SteppingClock(1000L);
  private ObjectMapper mapper;

  private long spendDay = -1;
  private long spendToday;
  private long callsMinute = -1;
  private long callsThisMinute;

  /** Builds the mapper. */
  @Setup
  public void setUp() {
    mapper = mapper();
    StripeDecisionBenchmark.check(handWritten(preParsed) == null, "hand-written floor denies");
  }

  /**
   * A mapper configured as SafeRun parses arguments: exact decimals, no trailing tokens, duplicate
   * keys refused (by the tree, as SafeRun does since issue 10).
   */
  static ObjectMapper mapper() {
    return JsonMapper.builder(JsonFactory.builder().build())
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
        .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
        .build();
  }

  /** The Stripe policy by hand: null when allowed, else the denying rule's message. */
  String handWritten(ChargeArgs a) {
    long now = clock.step();
    if (a.amount() > 50_000) {
      return "Single charge cannot exceed $500.00";
    }
    long day = now / DAY;
    long spent = day == spendDay ? spendToday : 0;
    if (spent + a.amount() > 1_000_000) {
      return "Daily spending cap of $10,000.00 reached";
    }
    if (!"usd".equals(a.currency()) && !"eur".equals(a.currency())) {
      return "Only USD and EUR charges are permitted";
    }
    long minute = now / MINUTE;
    long calls = minute == callsMinute ? callsThisMinute : 0;
    if (calls + 1 > 60) {
      return "Rate limit: maximum 60 tool calls per minute";
    }
    spendDay = day;
    spendToday = spent + a.amount();
    callsMinute = minute;
    callsThisMinute = calls + 1;
    return null;
  }

  /** The checks alone, on arguments already parsed into a record (too fast to sample). */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  public String handWrittenPreParsed() {
    return handWritten(preParsed);
  }

  /** Jackson alone: the JSON string to a tree, configured as SafeRun parses. */
  @Benchmark
  public JsonNode jacksonParse() throws JsonProcessingException {
    return mapper.readTree(json);
  }

  /** Parse with Jackson, then the hand-written checks on the tree. */
  @Benchmark
  public String jacksonParseThenHandWritten() throws JsonProcessingException {
    JsonNode n = mapper.readTree(json);
    return handWritten(new ChargeArgs(n.path("amount").asLong(), n.path("currency").asText(),
        n.path("customer").asText(), n.path("description").asText()));
  }
}
