#!/usr/bin/env bash
# The Rust queue bench beside BullMQ itself, on one redis-server in one run: BullMQ's add,
# addBulk and workers at concurrency 1 and 100 (bench/node/queue.mjs, BENCH_ONLY=bullmq),
# then redkit's Rust core on the same server (queue-bench), whose table
# (bench/results/rust-queue.md) then compares with those figures instead of the ones issue
# 17 quotes. BENCH_JOBS as both benches read it (default 20,000); REDIS_URL: a server to use
# (default: a throwaway one on a free loopback port). Needs bench/node's npm install and
# the Node binding built (see bench/node/queue.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
[ -n "${REDIS_URL:-}" ] || start_redis
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -z "${REDIS_PID:-}" ] || kill "$REDIS_PID" 2>/dev/null' EXIT
BENCH_ONLY=bullmq BENCH_WORKLOADS=add,bulk,worker BENCH_CONCURRENCY=1,100 \
  BENCH_JSON="$tmp/bullmq.json" BENCH_OUT="$tmp/bullmq.md" node bench/node/queue.mjs
BENCH_BULLMQ="$tmp/bullmq.json" cargo run -q --release -p redkit-bench --bin queue-bench
