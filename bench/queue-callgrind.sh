#!/usr/bin/env bash
# redis-server's instructions per job while a Rust worker drains a queue: the count that
# does not move with the machine's load (bench/results/rust-queue.md). A redis-server on a
# free loopback port runs under callgrind with instrumentation off; queue-bench fills the
# queue (BENCH_PHASE=fill), instrumentation goes on, a worker drains it
# (BENCH_PHASE=worker), instrumentation goes off. Prints the instructions per job and the
# worker's line; callgrind's output stays in the printed directory for callgrind_annotate.
# Usage: bench/queue-callgrind.sh [BINARY]   (default: the release queue-bench, built here)
#   BENCH_JOBS (default 10,000: 20,000 jobs drained), BENCH_CONCURRENCY (default 100).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
if [ $# -eq 0 ]; then
  cargo build -q --release -p redkit-bench --bin queue-bench
  set -- "$CARGO_TARGET_DIR/release/queue-bench"
fi
bin=$1
export BENCH_JOBS=${BENCH_JOBS:-10000}
out=$(mktemp -d)
port=$(free_port)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out" \
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$out" \
  > "$out/valgrind.log" 2>&1 &
vg=$!
trap 'kill $vg 2>/dev/null || true' EXIT
for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
export REDIS_URL="redis://127.0.0.1:$port"
BENCH_PHASE=fill "$bin"
callgrind_control -i on "$vg" >/dev/null 2>&1
line=$(BENCH_PHASE=worker "$bin")
callgrind_control -i off "$vg" >/dev/null 2>&1
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait "$vg" || true
total=$(awk '/^totals:/ {print $2}' "$out/callgrind.out")
echo "$line"
echo "redis-server: $total instructions, $((total / (BENCH_JOBS * 2))) per job (callgrind output in $out)"
