package dev.saferun.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Turns one JMH run's JSON results into the report of {@code docs/performance.md}: a Markdown
 * summary (SafeRun against each peer and the floor, ratios and absolute figures, the targets met or
 * missed, the scaling figures) and a PNG of the scaling curves, drawn with {@code java.awt} in
 * headless mode. Run by {@code saferun-benchmarks/run.sh}:
 *
 * <pre>{@code
 * java -cp benchmarks.jar dev.saferun.benchmarks.PlotReport results.json out-dir "machine" "load"
 * }</pre>
 *
 * <p>Stateless apart from the results it reads; not thread-safe (a command-line program).
 */
public final class PlotReport {
  private static final String PKG = "dev.saferun.benchmarks.";

  private final JsonNode results;
  private final Path outDir;

  private PlotReport(JsonNode results, Path outDir) {
    this.results = results;
    this.outDir = outDir;
  }

  /**
   * Writes {@code summary.md} and {@code curves.png} into the output directory.
   *
   * @param args results JSON, output directory, machine description, load description
   * @throws IOException when the results cannot be read or the outputs written
   */
  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      throw new IllegalArgumentException(
          "usage: PlotReport <results.json> <out-dir> [machine] [load]");
    }
    System.setProperty("java.awt.headless", "true");
    Path out = Path.of(args[1]);
    Files.createDirectories(out);
    PlotReport r = new PlotReport(new ObjectMapper().readTree(Path.of(args[0]).toFile()), out);
    String machine = args.length > 2 ? args[2] : "unknown machine";
    String load = args.length > 3 ? args[3] : "unknown";
    Files.writeString(out.resolve("summary.md"), r.summary(machine, load),
        StandardCharsets.UTF_8);
    ImageIO.write(r.curves(), "png", out.resolve("curves.png").toFile());
  }

  // ------------------------------------------------------------------ lookups

  /** One result: primary score, percentiles (sample mode), allocation per op. */
  record Result(double score, String unit, double p50, double p99, double bytesPerOp,
      JsonNode node) {
    double secondary(String name) {
      JsonNode s = node.path("secondaryMetrics").path(name).path("score");
      return s.isNumber() ? s.asDouble() : Double.NaN;
    }

    /** A sample-mode percentile by its JMH key ("99.9"), or NaN. */
    double percentile(String key) {
      JsonNode p = node.path("primaryMetric").path("scorePercentiles").path(key);
      return p.isNumber() ? p.asDouble() : Double.NaN;
    }
  }

  private Result find(String benchmark, String mode, String... params) {
    for (JsonNode n : results) {
      if (!n.path("benchmark").asText().equals(PKG + benchmark)
          || !n.path("mode").asText().equals(mode)) {
        continue;
      }
      boolean ok = true;
      for (int i = 0; i + 1 < params.length; i += 2) {
        ok &= n.path("params").path(params[i]).asText().equals(params[i + 1]);
      }
      if (!ok) {
        continue;
      }
      JsonNode pm = n.path("primaryMetric");
      JsonNode pct = pm.path("scorePercentiles");
      JsonNode alloc = n.path("secondaryMetrics").path("gc.alloc.rate.norm").path("score");
      return new Result(pm.path("score").asDouble(), pm.path("scoreUnit").asText(),
          pct.path("50.0").asDouble(Double.NaN), pct.path("99.0").asDouble(Double.NaN),
          alloc.isNumber() ? alloc.asDouble() : Double.NaN, n);
    }
    return null;
  }

  /** Mean microseconds per operation: from throughput (ops/us) or a time mode (us/op). */
  private double micros(String benchmark, String... params) {
    Result t = find(benchmark, "thrpt", params);
    if (t != null) {
      return 1.0 / t.score();
    }
    Result a = find(benchmark, "avgt", params);
    if (a != null) {
      return a.score();
    }
    Result s = find(benchmark, "sample", params);
    return s == null ? Double.NaN : s.score();
  }

  private double p50(String benchmark) {
    Result s = find(benchmark, "sample");
    return s == null ? Double.NaN : s.p50();
  }

  private double p99(String benchmark) {
    Result s = find(benchmark, "sample");
    return s == null ? Double.NaN : s.p99();
  }

  private double alloc(String benchmark, String... params) {
    Result t = find(benchmark, "thrpt", params);
    if (t == null) {
      t = find(benchmark, "avgt", params);
    }
    if (t == null) {
      t = find(benchmark, "sample", params);
    }
    return t == null ? Double.NaN : t.bytesPerOp();
  }

  // ------------------------------------------------------------------ summary

  static String fmt(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    if (v >= 1) {
      return String.format(Locale.ROOT, "%.2f", v);
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }

  static String ratio(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f×", v);
  }

  private void row(StringBuilder sb, String what, String benchmark, double base) {
    double mean = micros(benchmark);
    sb.append("| ").append(what).append(" | ").append(fmt(1.0 / mean * 1e6))
        .append(" | ").append(fmt(mean)).append(" | ").append(fmt(p50(benchmark)))
        .append(" | ").append(fmt(p99(benchmark))).append(" | ").append(fmt(alloc(benchmark)))
        .append(" | ").append(ratio(mean / base)).append(" |\n");
  }

  private static void header(StringBuilder sb, String baseName) {
    sb.append("| what | ops/s | mean µs | p50 µs | p99 µs | bytes/op | time vs ")
        .append(baseName).append(" |\n|---|---:|---:|---:|---:|---:|---:|\n");
  }

  private String summary(String machine, String load) {
    StringBuilder sb = new StringBuilder();
    JsonNode first = results.size() > 0 ? results.get(0) : null;
    sb.append("Machine: ").append(machine).append(". JDK: ")
        .append(first == null ? "?" : first.path("vmName").asText() + " "
            + first.path("jdkVersion").asText())
        .append(". Load average when the run started: ").append(load).append(".\n\n");

    String stripe = "StripeDecisionBenchmark.allowedCharge";
    double safeRun = micros(stripe);
    sb.append("### Stripe policy: one decision\n\n");
    header(sb, "SafeRun");
    row(sb, "**SafeRun**, allowed create_charge (JSON parsed)", stripe, safeRun);
    row(sb, "SafeRun, denied by the first rule", "StripeDecisionBenchmark.deniedByArgumentRule",
        safeRun);
    row(sb, "SafeRun, unlisted tool (default deny)", "StripeDecisionBenchmark.unlistedTool",
        safeRun);
    row(sb, "floor: Jackson parse + hand-written checks",
        "FloorBenchmark.jacksonParseThenHandWritten", safeRun);
    row(sb, "floor: Jackson parse alone", "FloorBenchmark.jacksonParse", safeRun);
    row(sb, "floor: hand-written checks, pre-parsed", "FloorBenchmark.handWrittenPreParsed",
        safeRun);
    row(sb, "cedar-java 4.10 (cached policy set, pre-parsed)", "CedarBenchmark.allowedCharge",
        safeRun);

    sb.append("\n### Rate-limit step (one counter, always allowed)\n\n");
    String charge = "RateLimitBenchmark.saferunStoreCharge";
    double bucket4j = micros("RateLimitBenchmark.bucket4jTryConsume");
    header(sb, "Bucket4j");
    row(sb, "**SafeRun** in-memory store, charge one counter", charge, bucket4j);
    row(sb, "Bucket4j 8.19 local bucket, tryConsume(1)", "RateLimitBenchmark.bucket4jTryConsume",
        bucket4j);
    row(sb, "Bucket4j, a bucket per key in a Caffeine cache",
        "RateLimitBenchmark.bucket4jPerKeyTryConsume", bucket4j);
    row(sb, "Resilience4j 2.4 AtomicRateLimiter", "RateLimitBenchmark.resilience4jAcquire",
        bucket4j);
    row(sb, "SafeRun whole decision, rate_limit rule only",
        "RateLimitBenchmark.saferunRateLimitDecision", bucket4j);

    sb.append("\n### Shared counters on Redis (loopback)\n\n");
    String raw = "RedisBenchmark.rawEvalsha";
    double rawMean = micros(raw);
    header(sb, "raw EVALSHA");
    row(sb, "**SafeRun** allowed Stripe decision, RedisStateStore",
        "RedisBenchmark.saferunDecisionOnRedis", rawMean);
    row(sb, "one raw EVALSHA (Lettuce sync, one HINCRBY)", raw, rawMean);
    row(sb, "raw EVALSHA of SafeRun's charge script, same 2 counters",
        "RedisBenchmark.rawChargeScript", rawMean);
    row(sb, "RedisStateStore.charge of those 2 counters, no decision",
        "RedisBenchmark.storeCharge", rawMean);

    sb.append("\n### Audit: hash-chained JSON Lines file sink\n\n");
    sb.append("| what | events/s | mean µs/event | bytes/event |\n|---|---:|---:|---:|\n");
    for (String fsync : new String[] {"EVERY_BATCH", "NEVER"}) {
      Result r = find("AuditBenchmark.sinkSustained", "thrpt", "fsync", fsync);
      sb.append("| sink sustained, fsync ").append(fsync).append(" | ")
          .append(r == null ? "n/a" : fmt(r.score() * 1e6)).append(" | ")
          .append(r == null ? "n/a" : fmt(1.0 / r.score())).append(" | ")
          .append(r == null ? "n/a" : fmt(r.bytesPerOp())).append(" |\n");
    }
    Result audited = find("AuditBenchmark.decisionWithFileAudit", "thrpt");
    Result auditedLatency = find("AuditBenchmark.decisionWithFileAuditLatency", "sample");
    if (audited != null) {
      double allowed = audited.secondary("allowed");
      double refused = audited.secondary("refused");
      sb.append(String.format(Locale.ROOT, "%nSafeRun allowed Stripe decision with the file sink"
              + " attached: %s decisions/s (%s µs mean, p50 %s µs, p99 %s µs, %s bytes/op);"
              + " %s of them refused by the audit queue (still full after its wait: denied,"
              + " fail closed).%n",
          fmt(audited.score() * 1e6), fmt(1.0 / audited.score()),
          auditedLatency == null ? "n/a" : fmt(auditedLatency.p50()),
          auditedLatency == null ? "n/a" : fmt(auditedLatency.p99()),
          fmt(audited.bytesPerOp()),
          Double.isNaN(refused) ? "n/a" : String.format(Locale.ROOT, "%.2f%%",
              100 * refused / Math.max(1e-12, allowed + refused))));
    }
    Result pacedAudited = find("AuditBenchmark.pacedDecisionWithFileAudit", "sample");
    Result pacedPlain = find("AuditBenchmark.pacedDecisionWithoutAudit", "sample");
    if (pacedAudited != null || pacedPlain != null) {
      sb.append("\nThe same decision offered at a fixed 100,000 decisions/s (below the sink's"
          + " capacity), latency of the decision alone:\n\n"
          + "| paced decision | p50 µs | p99 µs | p99.9 µs |\n|---|---:|---:|---:|\n");
      pacedRow(sb, "file sink attached", pacedAudited);
      pacedRow(sb, "audit off", pacedPlain);
    }

    sb.append("\n### Targets\n\n| target | measured | met |\n|---|---|---|\n");
    double p99 = p99(stripe);
    target(sb, "p99 ≤ 5 µs, Stripe decision", fmt(p99) + " µs", p99 <= 5);
    double bytes = alloc(stripe);
    target(sb, "≤ 2 KB allocated per Stripe decision", fmt(bytes) + " B", bytes <= 2048);
    double cedar = micros("CedarBenchmark.allowedCharge") / safeRun;
    double cedar50 = p50("CedarBenchmark.allowedCharge") / p50(stripe);
    target(sb, "≥ 20× faster than cedar-java", ratio(cedar) + " (mean); " + ratio(cedar50)
        + " (p50)", cedar >= 20 && cedar50 >= 20);
    double rl = micros(charge) / bucket4j;
    double rlKeyed = micros(charge) / micros("RateLimitBenchmark.bucket4jPerKeyTryConsume");
    target(sb, "rate-limit step ≤ 1.5× Bucket4j", ratio(rl) + " of one bucket; " + ratio(rlKeyed)
        + " of a bucket per key (mean time)", rl <= 1.5);
    double redis = micros("RedisBenchmark.saferunDecisionOnRedis") / rawMean;
    double redis50 = p50("RedisBenchmark.saferunDecisionOnRedis") / p50(raw);
    target(sb, "Redis decision ≤ 1.3× one raw EVALSHA", ratio(redis50) + " (p50); "
        + ratio(redis) + " (mean)", redis50 <= 1.3);
    Result sink = find("AuditBenchmark.sinkSustained", "thrpt", "fsync", "EVERY_BATCH");
    double eps = sink == null ? Double.NaN : sink.score() * 1e6;
    target(sb, "audit ≥ 200,000 events/s (fsync every batch)", fmt(eps) + " events/s",
        eps >= 200_000);

    sb.append("\n### Scaling (mean µs per decision, allocation per decision)\n\n");
    scaling(sb, "tools listed", "ScalingBenchmark.toolsListed", "tools");
    scaling(sb, "rules per tool", "ScalingBenchmark.rulesPerTool", "rules");
    scaling(sb, "argument bytes", "ScalingBenchmark.argumentSize", "bytes");
    scaling(sb, "policies in the set", "ScalingBenchmark.policySetSize", "policies");
    scaling(sb, "distinct per-user counters", "CountersBenchmark.perUserCounters", "users");
    sb.append("\n| threads | Stripe ops/s (all threads) | arguments-only ops/s |\n"
        + "|---:|---:|---:|\n");
    for (int t = 1; t <= 2; t++) {
      Result s = find("ScalingBenchmark.threads" + t + "Stripe", "thrpt");
      Result a = find("ScalingBenchmark.threads" + t + "ArgumentsOnly", "thrpt");
      sb.append("| ").append(t).append(" | ").append(s == null ? "n/a" : fmt(s.score() * 1e6))
          .append(" | ").append(a == null ? "n/a" : fmt(a.score() * 1e6)).append(" |\n");
    }
    sb.append("\n| idle per-user counters | heap per live counter | heap left after eviction |"
        + " the call that finds them idle | the sweep (maintenance thread) |\n"
        + "|---:|---:|---:|---:|---:|\n");
    for (JsonNode c : counterFiles()) {
      int users = c.path("users").asInt();
      Result call = find("CountersBenchmark.evictIdleCounters", "ss", "users",
          Integer.toString(users), "sweep", "background");
      Result sweep = find("CountersBenchmark.evictIdleCounters", "ss", "users",
          Integer.toString(users), "sweep", "caller");
      sb.append("| ").append(String.format(Locale.ROOT, "%,d", users)).append(" | ")
          .append(users >= 1000 ? fmt(c.path("bytesPerCounter").asDouble()) + " B" : "n/a")
          .append(" | ").append(fmtBytes(c.path("bytesLeftAfterEviction").asLong()))
          .append(" | ").append(call == null ? "n/a" : fmt(call.score()) + " ms")
          .append(" | ").append(sweep == null ? "n/a" : fmt(sweep.score()) + " ms")
          .append(" |\n");
    }
    return sb.toString();
  }

  private static void pacedRow(StringBuilder sb, String what, Result r) {
    sb.append("| ").append(what).append(" | ")
        .append(r == null ? "n/a" : fmt(r.p50())).append(" | ")
        .append(r == null ? "n/a" : fmt(r.p99())).append(" | ")
        .append(r == null ? "n/a" : fmt(r.percentile("99.9"))).append(" |\n");
  }

  private static String fmtBytes(long b) {
    return String.format(Locale.ROOT, "%.1f MB", b / 1e6);
  }

  private static void target(StringBuilder sb, String what, String measured, boolean met) {
    sb.append("| ").append(what).append(" | ").append(measured).append(" | ")
        .append(met ? "met" : "**missed**").append(" |\n");
  }

  private void scaling(StringBuilder sb, String label, String benchmark, String param) {
    List<double[]> pts = series(benchmark, param);
    if (pts.isEmpty()) {
      return;
    }
    sb.append("| ").append(label);
    for (double[] p : pts) {
      sb.append(" | ").append(String.format(Locale.ROOT, "%,.0f", p[0]));
    }
    sb.append(" |\n|---");
    sb.append("|---:".repeat(pts.size()));
    sb.append("|\n| µs/decision");
    for (double[] p : pts) {
      sb.append(" | ").append(fmt(p[1]));
    }
    sb.append(" |\n| bytes/decision");
    for (double[] p : pts) {
      sb.append(" | ").append(fmt(p[2]));
    }
    sb.append(" |\n\n");
  }

  /** (param value, mean µs, bytes/op) for each parameter value, in ascending order. */
  private List<double[]> series(String benchmark, String param) {
    List<double[]> pts = new ArrayList<>();
    for (JsonNode n : results) {
      if (n.path("benchmark").asText().equals(PKG + benchmark)
          && n.path("mode").asText().equals("avgt")) {
        JsonNode alloc = n.path("secondaryMetrics").path("gc.alloc.rate.norm").path("score");
        pts.add(new double[] {n.path("params").path(param).asDouble(),
            n.path("primaryMetric").path("score").asDouble(),
            alloc.isNumber() ? alloc.asDouble() : Double.NaN});
      }
    }
    pts.sort((a, b) -> Double.compare(a[0], b[0]));
    return pts;
  }

  private List<JsonNode> counterFiles() {
    List<JsonNode> out = new ArrayList<>();
    try (var s = Files.list(outDir)) {
      for (Iterator<Path> it = s.sorted().iterator(); it.hasNext(); ) {
        Path p = it.next();
        String name = p.getFileName().toString();
        if (name.startsWith("counters-") && name.endsWith(".json")) {
          out.add(new ObjectMapper().readTree(p.toFile()));
        }
      }
    } catch (IOException e) {
      return out;
    }
    out.sort((a, b) -> Integer.compare(a.path("users").asInt(), b.path("users").asInt()));
    return out;
  }

  // ------------------------------------------------------------------ curves

  private static final int W = 1500;
  private static final int H = 980;
  private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728),
      new Color(0x2ca02c), new Color(0x9467bd)};

  private BufferedImage curves() {
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING,
        RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 22));
    g.drawString("SafeRun decision cost: scaling (mean µs per decision, lower is better)", 30, 36);
    int pw = W / 3;
    int ph = (H - 50) / 2;
    panel(g, 0, 50, pw, ph, "Tools listed by the policy (should be flat)", "tools",
        true, false, Map.of("µs/decision", series("ScalingBenchmark.toolsListed", "tools")));
    panel(g, pw, 50, pw, ph, "Rules per tool (linear)", "rules", false, false,
        Map.of("µs/decision", series("ScalingBenchmark.rulesPerTool", "rules")));
    Map<String, List<double[]>> args = new LinkedHashMap<>();
    args.put("SafeRun decision", series("ScalingBenchmark.argumentSize", "bytes"));
    args.put("Jackson parse alone (floor)",
        series("ScalingBenchmark.argumentSizeJacksonOnly", "bytes"));
    panel(g, 2 * pw, 50, pw, ph, "Argument size (log-log)", "bytes of JSON", true, true, args);
    panel(g, 0, 50 + ph, pw, ph, "Policies in the set (one matches)", "policies", true, false,
        Map.of("µs/decision", series("ScalingBenchmark.policySetSize", "policies")));
    Map<String, List<double[]>> users = new LinkedHashMap<>();
    users.put("µs/decision", series("CountersBenchmark.perUserCounters", "users"));
    panel(g, pw, 50 + ph, pw, ph, "Distinct per-user counters (live)", "users", true, false,
        users);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    g.setColor(Color.DARK_GRAY);
    int noteY = 50 + ph + 70;
    for (JsonNode c : counterFiles()) {
      int n = c.path("users").asInt();
      if (n < 100_000) {
        continue;
      }
      Result ev = find("CountersBenchmark.evictIdleCounters", "ss", "users", Integer.toString(n),
          "sweep", "caller");
      g.drawString(String.format(Locale.ROOT, "%s: %.0f B heap per counter%s", tick(n),
          c.path("bytesPerCounter").asDouble(), ev == null ? ""
              : String.format(Locale.ROOT, ", background sweep of all idle: %.0f ms",
                  ev.score())),
          pw + 95, noteY);
      noteY += 20;
    }
    Map<String, List<double[]>> threads = new LinkedHashMap<>();
    threads.put("Stripe (shared counters)", threadSeries("Stripe"));
    threads.put("argument rules only", threadSeries("ArgumentsOnly"));
    panel(g, 2 * pw, 50 + ph, pw, ph, "Threads sharing one SafeRun (throughput)",
        "threads", false, false, threads, "decisions/µs (all threads)");
    g.dispose();
    return img;
  }

  private List<double[]> threadSeries(String which) {
    List<double[]> pts = new ArrayList<>();
    for (int t = 1; t <= 2; t++) {
      Result r = find("ScalingBenchmark.threads" + t + which, "thrpt");
      if (r != null) {
        pts.add(new double[] {t, r.score(), r.bytesPerOp()});
      }
    }
    return pts;
  }

  private void panel(Graphics2D g, int x0, int y0, int w, int h, String title, String xLabel,
      boolean logX, boolean logY, Map<String, List<double[]>> series) {
    panel(g, x0, y0, w, h, title, xLabel, logX, logY, series, "µs per decision");
  }

  private void panel(Graphics2D g, int x0, int y0, int w, int h, String title, String xLabel,
      boolean logX, boolean logY, Map<String, List<double[]>> series, String yLabel) {
    int left = x0 + 80;
    int right = x0 + w - 25;
    int top = y0 + 45;
    int bottom = y0 + h - 60;
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
    g.drawString(title, x0 + 20, y0 + 25);
    double minX = Double.MAX_VALUE;
    double maxX = -Double.MAX_VALUE;
    double minY = Double.MAX_VALUE;
    double maxY = -Double.MAX_VALUE;
    for (List<double[]> pts : series.values()) {
      for (double[] p : pts) {
        minX = Math.min(minX, p[0]);
        maxX = Math.max(maxX, p[0]);
        minY = Math.min(minY, p[1]);
        maxY = Math.max(maxY, p[1]);
      }
    }
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    if (minX == Double.MAX_VALUE) {
      g.drawString("no results", (left + right) / 2 - 30, (top + bottom) / 2);
      return;
    }
    if (logY) {
      minY = Math.pow(10, Math.floor(Math.log10(minY)));
      maxY = Math.pow(10, Math.ceil(Math.log10(maxY)));
    } else {
      minY = 0;
      maxY = niceCeil(maxY * 1.1);
    }
    if (logX) {
      minX = Math.pow(10, Math.floor(Math.log10(minX)));
      maxX = Math.pow(10, Math.ceil(Math.log10(maxX)));
    } else if (maxX <= 5) {
      minX = 0; // a few whole values (threads): whole ticks
      maxX = Math.ceil(maxX) + 1;
    } else {
      minX = 0;
      maxX = niceCeil(maxX * 1.05);
    }
    Axis ax = new Axis(minX, maxX, logX, !logX && maxX <= 6, left, right);
    Axis ay = new Axis(minY, maxY, logY, false, bottom, top);
    g.setStroke(new BasicStroke(1f));
    FontMetrics fm = g.getFontMetrics();
    for (double t : ay.ticks()) {
      int y = (int) ay.map(t);
      g.setColor(new Color(0xe0e0e0));
      g.draw(new Line2D.Double(left, y, right, y));
      g.setColor(Color.DARK_GRAY);
      String s = tick(t);
      g.drawString(s, left - 8 - fm.stringWidth(s), y + 5);
    }
    for (double t : ax.ticks()) {
      int x = (int) ax.map(t);
      g.setColor(new Color(0xe0e0e0));
      g.draw(new Line2D.Double(x, top, x, bottom));
      g.setColor(Color.DARK_GRAY);
      String s = tick(t);
      g.drawString(s, x - fm.stringWidth(s) / 2, bottom + 20);
    }
    g.setColor(Color.BLACK);
    g.draw(new Rectangle2D.Double(left, top, right - left, bottom - top));
    g.drawString(xLabel, (left + right) / 2 - fm.stringWidth(xLabel) / 2, bottom + 42);
    Graphics2D gy = (Graphics2D) g.create();
    gy.rotate(-Math.PI / 2);
    gy.drawString(yLabel, -(top + bottom) / 2 - fm.stringWidth(yLabel) / 2, x0 + 18);
    gy.dispose();
    int k = 0;
    int legendY = top + 20;
    for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
      Color c = COLORS[k++ % COLORS.length];
      g.setColor(c);
      g.setStroke(new BasicStroke(2.5f));
      double[] prev = null;
      double lastLabelX = -1e9;
      boolean below = k == 2; // the second series labels under its points, so two never collide
      for (double[] p : e.getValue()) {
        double x = ax.map(p[0]);
        double y = ay.map(p[1]);
        if (prev != null) {
          g.draw(new Line2D.Double(prev[0], prev[1], x, y));
        }
        g.fillOval((int) x - 5, (int) y - 5, 10, 10);
        String label = fmt(p[1]);
        g.setColor(Color.BLACK);
        int lx = x + 7 + fm.stringWidth(label) > right ? (int) x - 7 - fm.stringWidth(label)
            : (int) x + 7;
        if (x - lastLabelX > 45) { // crowded points: the tables carry every value
          g.drawString(label, lx, below ? (int) y + 20 : (int) y - 7);
          lastLabelX = x;
        }
        g.setColor(c);
        prev = new double[] {x, y};
      }
      if (series.size() > 1) {
        g.fillRect(left + 12, legendY - 10, 12, 12);
        g.setColor(Color.BLACK);
        g.drawString(e.getKey(), left + 30, legendY);
        legendY += 20;
      }
    }
  }

  private static double niceCeil(double v) {
    if (v <= 0) {
      return 1;
    }
    double mag = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
      if (m * mag >= v) {
        return m * mag;
      }
    }
    return 10 * mag;
  }

  private static String tick(double t) {
    if (t >= 1000) {
      return t >= 1e6 ? String.format(Locale.ROOT, "%.0fM", t / 1e6)
          : String.format(Locale.ROOT, "%.0fk", t / 1e3);
    }
    if (t == Math.rint(t)) {
      return String.format(Locale.ROOT, "%.0f", t);
    }
    return String.format(Locale.ROOT, t < 0.1 ? "%.3f" : "%.2f", t);
  }

  /** A linear or logarithmic mapping from data to pixels. */
  record Axis(double min, double max, boolean log, boolean whole, double from, double to) {
    double map(double v) {
      double f = log ? (Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))
          : (v - min) / (max - min);
      return from + f * (to - from);
    }

    List<Double> ticks() {
      List<Double> t = new ArrayList<>();
      if (log) {
        for (double v = min; v <= max * 1.0001; v *= 10) {
          t.add(v);
        }
        return t;
      }
      double step = whole ? 1 : niceCeil((max - min) / 5);
      for (double v = min; v <= max + step * 1e-6; v += step) {
        t.add(v);
      }
      return t;
    }
  }
}
