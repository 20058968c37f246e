package dev.saferun.audit;

import dev.saferun.CallContext;
import dev.saferun.Decision;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Manual measurement, not a test (docs/audit.md, "Performance"): sustained events/s of the file
 * sink and the time to verify and read a 1,000,000-record log. Run from the repository root:
 *
 * <pre>
 * ./mvnw -q -pl saferun-core test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.saferun.audit.AuditBenchmark [-Dexec.args="1000000 /tmp/bench"]
 * </pre>
 */
public final class AuditBenchmark {
  private AuditBenchmark() {}

  public static AuditEvent event(long i) {
    return new AuditEvent(Instant.ofEpochMilli(1_768_473_000_000L + i), i,
        i % 10 == 0 ? AuditEvent.Type.DENIED : AuditEvent.Type.ALLOWED, "create_refund",
        CallContext.of("agent", "support", "environment", "prod", "user", "u" + (i % 97),
            "run", "run-" + (i / 20)),
        "{\"amount\":" + (i % 9000) + ",\"card_number\":\"***\",\"reason\":\"damaged item\"}",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "support",
        "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
        i % 10 == 0 ? "max single refund" : null,
        i % 10 == 0 ? "Single refund cannot exceed $50.00" : "Allowed",
        i % 7 == 0 ? new Decision.ShadowVerdict(Decision.Outcome.DENY, "support", "new cap",
            "Refunds over $40 need review") : null, 42_000, null, null, 0,
        i % 10 == 0 ? null : BigDecimal.valueOf(i % 9000, 2));
  }

  public static void main(String[] args) throws Exception {
    long n = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
    Path root = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("saferun-bench");
    System.out.printf(Locale.ROOT, "cores=%d, java=%s, dir=%s%n",
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), root);
    System.out.print("warm-up (JIT): ");
    throughput(root.resolve("warm-up"), Math.min(n, 300_000), 2, FsyncPolicy.NEVER);
    delete(root.resolve("warm-up"));
    for (FsyncPolicy fsync : FsyncPolicy.values()) {
      throughput(root.resolve("async-" + fsync), n, 2, fsync);
    }
    throughput(root.resolve("async-4-threads"), n, 4, FsyncPolicy.EVERY_BATCH);
    Path log = root.resolve("async-EVERY_BATCH");
    for (int i = 0; i < 3; i++) {
      long t = System.nanoTime();
      AuditLog.Verification v = AuditLog.verify(List.of(log));
      double s = (System.nanoTime() - t) / 1e9;
      System.out.printf(Locale.ROOT, "verify: %,d records in %d files, %,d bytes: %.2f s"
          + " (intact=%s)%n", v.records(), v.files().size(), size(log), s, v.intact());
    }
    long t = System.nanoTime();
    long events;
    try (Stream<AuditLog.Entry> s = AuditLog.read(List.of(log))) {
      events = s.filter(e -> e.event() != null).count();
    }
    System.out.printf(Locale.ROOT, "read back (parse into AuditEvent): %,d events in %.2f s%n",
        events, (System.nanoTime() - t) / 1e9);
    for (FsyncPolicy fsync : FsyncPolicy.values()) {
      delete(root.resolve("async-" + fsync));
    }
    delete(root.resolve("async-4-threads"));
  }

  /**
   * Producers record as fast as the queue accepts until n events, backing off for 20 µs when it
   * is full (each refusal is counted and marked by a gap record, as in production); the rate is
   * measured until close() has drained the queue, so it is what the writer sustains.
   */
  static void throughput(Path dir, long n, int threads, FsyncPolicy fsync) throws Exception {
    delete(dir);
    AtomicLong next = new AtomicLong();
    long t;
    long rejected;
    try (FileAuditSink sink = FileAuditSink.builder(dir.resolve("audit.jsonl")).fsync(fsync)
        .build()) {
      t = System.nanoTime();
      List<Thread> producers = new ArrayList<>();
      for (int k = 0; k < threads; k++) {
        Thread p = new Thread(() -> {
          for (long i = next.incrementAndGet(); i <= n; i = next.incrementAndGet()) {
            AuditEvent e = event(i);
            while (true) {
              try {
                sink.record(e);
                break;
              } catch (AuditException queueFull) {
                // Back off briefly: spinning producers would starve the writer on 2 cores.
                java.util.concurrent.locks.LockSupport.parkNanos(20_000);
              }
            }
          }
        });
        producers.add(p);
        p.start();
      }
      for (Thread p : producers) {
        p.join();
      }
      rejected = sink.rejected();
    }
    double s = (System.nanoTime() - t) / 1e9;
    System.out.printf(Locale.ROOT, "sink fsync=%s producers=%d: %,d events in %.2f s = %,.0f"
        + " events/s (queue-full retries: %,d), %,d bytes%n", fsync, threads, n, s, n / s,
        rejected, size(dir));
  }

  static long size(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.mapToLong(p -> p.toFile().length()).sum();
    }
  }

  static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
