#!/usr/bin/env bash
# run_all.sh [BUILD_DIR]: builds the benchmarks (Release) and prints every figure the
# issues ask for, each next to its goal, and as a ratio to its baseline where the bench
# measures one in the same run. Not a test: figures depend on the machine and its load.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-$SRC/build-rel}
cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j2 --target bench_orders bench_stock bench_spapi bench_web bench_rules bench_runtime bench_notify >/dev/null
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== orders (goal: >= 20000 orders/s, ratio to the bare baseline <= 2.5, <= 64 MiB, 1 call per 100 orders)"
"$B/tests/bench/bench_orders" "${ORDERS:-100000}"
echo "== rules (goal: all order hooks <= 5 us per order)"
"$B/tests/rules/bench_rules"
echo "== stock (goal: full run <= 1 s, 1% changed <= 50 ms)"
"$B/tests/bench/bench_stock"
echo "== client and simulator"
"$B/tests/bench/bench_spapi"
echo "== dashboard API with 1,000,000 orders while a sync runs (goal: p99 < 50 ms)"
"$B/tests/bench/bench_web"
echo "== runtime: 50 integrations at Amazon's rates x60, feeds of 1-10 Amazon minutes (goals: lateness <= 1 s, dispatch to confirmShipment <= 5 s, idle CPU <= 1% of a core)"
"$B/tests/bench/bench_runtime" "${INTEGRATIONS:-50}" 60 60 60
echo "== notifications: ORDER_CHANGE to the committed order at the simulator's pace (goal: under 2 s; getOrder calls per order)"
"$B/tests/bench/bench_notify" "${NOTIFY_ORDERS:-25}" 200 5
