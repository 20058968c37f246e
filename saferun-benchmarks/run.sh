#!/usr/bin/env bash
# Builds the benchmarks, runs them all in one JMH run (about 8 minutes on 2 cores) and writes the
# report: saferun-benchmarks/target/jmh-results/{results.json,summary.md,curves.png}.
#
#   saferun-benchmarks/run.sh                 # everything, as in docs/performance.md
#   saferun-benchmarks/run.sh Stripe Floor    # only benchmarks matching these regexps
#   UPDATE_DOCS=1 saferun-benchmarks/run.sh   # also copy the plot to docs/performance-curves.png
#
# Needs a JDK 17+ on the PATH; Redis at 127.0.0.1:6379 for RedisBenchmark (-Dsaferun.bench.redis
# via JAVA_OPTS to change it; without Redis that benchmark fails and the others still run).
# The load average is checked first: above MAX_LOAD (default 1.5) it waits, up to MAX_WAIT
# seconds (default 60), then runs anyway and records the load in the report.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=saferun-benchmarks/target/jmh-results
MAX_LOAD=${MAX_LOAD:-1.5}
MAX_WAIT=${MAX_WAIT:-60}
start=$(date +%s)

./mvnw -B -q -pl saferun-benchmarks -am package -DskipTests
rm -rf "$OUT" && mkdir -p "$OUT"

waited=0
while awk -v max="$MAX_LOAD" '{exit !($1 > max)}' /proc/loadavg && [ "$waited" -lt "$MAX_WAIT" ]; do
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg) is above $MAX_LOAD; waiting (${waited}s of ${MAX_WAIT}s)"
  sleep 30
  waited=$((waited + 30))
done
load="$(cut -d' ' -f1-3 /proc/loadavg)"
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "machine: $machine; load average: $load"

# shellcheck disable=SC2086
java ${JAVA_OPTS:-} -Dsaferun.bench.out="$OUT" -jar saferun-benchmarks/target/benchmarks.jar \
  -prof gc -rf json -rff "$OUT/results.json" "$@" | tee "$OUT/jmh.log"

java -cp saferun-benchmarks/target/benchmarks.jar dev.saferun.benchmarks.PlotReport \
  "$OUT/results.json" "$OUT" "$machine" "$load (1, 5, 15 min)"
if [ "${UPDATE_DOCS:-0}" = 1 ]; then
  cp "$OUT/curves.png" docs/performance-curves.png
fi
cat "$OUT/summary.md"
echo
echo "report: $OUT/summary.md, $OUT/curves.png; total time $(( $(date +%s) - start )) s"
