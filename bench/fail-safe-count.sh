#!/usr/bin/env bash
# Instructions per call of fail-safe-bench's operations (bench/results/fail-safe.md), each
# with its feature off and on in the same run: callgrind counts the whole bench process
# (every thread, redis-server's own instructions not included) at N1 and at N2 sequential
# calls, and (count at N2 - count at N1) / (N2 - N1) is one call, start-up cancelled out.
# Usage: bench/fail-safe-count.sh [BINARY...]   (default: the release build of
#   `cargo build --release -p redkit-bench --bin fail-safe-bench`). Several binaries (two
#   revisions, say) are measured in turn, RUNS times over, on one private redis-server on a
#   free loopback port. N1 (default 2000), N2 (default 22000), RUNS (default 1).
# Ends with the median of the runs for each binary and operation. The bench's runtime gets
# one worker thread (TOKIO_WORKER_THREADS, default 1 here): with two, a count moves by a few
# percent from one process to the next (how often the workers park and wake each other);
# with one, by a few instructions but for an odd run, hence the median.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
N1=${N1:-2000}
N2=${N2:-22000}
RUNS=${RUNS:-1}
[ $# -gt 0 ] || set -- "${CARGO_TARGET_DIR:-target}/release/fail-safe-bench"
OPS=(
  'cache get (hit), fail_safe off'
  'cache get (hit), fail_safe on'
  'cache get_or_set (hit), fail_safe off'
  'cache get_or_set (hit), fail_safe on'
  'rate limit, on_error=raise (no failover)'
  'rate limit, on_error=deny (circuit breaker)'
  'rate limit, insurance (circuit breaker)'
)
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
export REDIS_URL="redis://127.0.0.1:$port"
export TOKIO_WORKER_THREADS=${TOKIO_WORKER_THREADS:-1}

instructions() { # BINARY OPERATION CALLS
  BENCH_COUNT="$2=$3" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$1" \
    >/dev/null 2>"$tmp/valgrind.log"
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/valgrind.log"
}

for run in $(seq "$RUNS"); do
  for bin in "$@"; do
    echo "== $bin (run $run)"
    for op in "${OPS[@]}"; do
      a=$(instructions "$bin" "$op" "$N1")
      b=$(instructions "$bin" "$op" "$N2")
      per_call=$(((b - a) / (N2 - N1)))
      echo "$op: $per_call"
      printf '%s\t%s\t%s\n' "$bin" "$op" "$per_call" >>"$tmp/all"
    done
  done
done

echo "== median of $RUNS run(s)"
python3 - "$tmp/all" <<'PY'
import statistics
import sys

counts = {}
for line in open(sys.argv[1]):
    binary, op, n = line.rstrip("\n").split("\t")
    counts.setdefault(binary, {}).setdefault(op, []).append(int(n))
for binary, ops in counts.items():
    print(binary)
    for op, ns in ops.items():
        runs = ", ".join(f"{n:,}" for n in ns)
        print(f"  {op}: {statistics.median(ns):,.0f} (runs: {runs})")
PY
