#!/usr/bin/env bash
# Server CPU per rate-limit decision: `INFO commandstats` usec_per_call of EVALSHA for each
# algorithm's script, the scripts of git revision BASE and of the working tree interleaved
# (median of ROUNDS runs of N calls each), on a private redis-server on a free loopback port.
# Usage: bench/ratelimit-script-cpu.sh [BASE]   (BASE defaults to HEAD)
# One rule, limit 100 per second, identifiers rotating over 10,000, server clock (TIME).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-HEAD}
N=${N:-50000}
ROUNDS=${ROUNDS:-7}
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log"
cli() { redis-cli -p "$port" "$@"; }
trap 'cli shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
until cli ping >/dev/null 2>&1; do sleep 0.1; done

usec() {
  cli FLUSHALL >/dev/null
  cli CONFIG RESETSTAT >/dev/null
  redis-benchmark -p "$port" -n "$N" -c 4 -r 10000 -q \
    EVALSHA "$1" 1 'rk:{rl:api}:g:__rand_int__' limit '' 1 0 100 1000000 0 >/dev/null
  cli INFO commandstats | sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p'
}
# The one-rule script of algorithm $2 at revision $1 ('' = working tree), assembled as
# core/src/ratelimit/scripts.rs does (revisions before rl_one_rule.lua: head + algorithm).
show() { if [ -z "$1" ]; then cat "$2"; else git show "$1:$2"; fi; }
script() {
  local d=core/lua
  if show "$1" $d/rl_one_rule.lua >/dev/null 2>&1; then
    show "$1" $d/rl_common.lua
    show "$1" $d/rl_one_rule.lua | while IFS= read -r line; do
      if [ "$line" = "-- ALGORITHM" ]; then show "$1" "$d/rl_$2.lua"; else printf '%s\n' "$line"; fi
    done
  else
    show "$1" $d/rl_common.lua; show "$1" "$d/rl_$2.lua"
  fi
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "| algorithm | $BASE (µs) | working tree (µs) |"
echo "|---|---:|---:|"
for a in gcra token_bucket fixed_window sliding_window sliding_log; do
  before=$(script "$BASE" "$a" | cli -x SCRIPT LOAD)
  after=$(script '' "$a" | cli -x SCRIPT LOAD)
  b=""; w=""
  for _ in $(seq "$ROUNDS"); do b="$b $(usec "$before")"; w="$w $(usec "$after")"; done
  echo "| $a | $(echo "$b" | median) | $(echo "$w" | median) |"
done
