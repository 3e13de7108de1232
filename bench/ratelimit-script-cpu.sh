#!/usr/bin/env bash
# Server CPU per rate-limit decision: `INFO commandstats` usec_per_call of EVALSHA for each
# algorithm's script, the scripts of git revision BASE and of the working tree interleaved
# (median of ROUNDS runs of N calls each), on a private redis-server on a free loopback port.
# Usage: bench/ratelimit-script-cpu.sh [BASE]   (BASE defaults to HEAD)
# One rule, limit 100 per second, identifiers rotating over 10,000, server clock (TIME).
#
# INSTRUCTIONS=1: instead, redis-server runs under valgrind's callgrind and each script's
# figure is the instructions the server executes per EVALSHA (parsing the command and
# writing the reply included) over N calls from one client, after FLUSHALL and 200
# warm-up calls. Slow, but exact to a fraction of a percent whatever else the machine runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-HEAD}
INSTRUCTIONS=${INSTRUCTIONS:-}
N=${N:-$([ -n "$INSTRUCTIONS" ] && echo 2000 || echo 50000)}
ROUNDS=${ROUNDS:-$([ -n "$INSTRUCTIONS" ] && echo 1 || echo 7)}
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cli() { redis-cli -p "$port" "$@"; }
if [ -n "$INSTRUCTIONS" ]; then
  command -v valgrind >/dev/null || { echo "INSTRUCTIONS=1 needs valgrind (apt-get install valgrind)" >&2; exit 1; }
  (cd "$tmp" && exec valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    >"$tmp/redis.log" 2>&1) &
  server=$!
else
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log"
fi
trap 'cli shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
until cli ping >/dev/null 2>&1; do sleep 0.1; done

decide() { # SHA CALLS CLIENTS ARGS...
  local sha=$1 calls=$2 clients=$3
  shift 3
  redis-benchmark -p "$port" -n "$calls" -c "$clients" -r 10000 -q \
    EVALSHA "$sha" 1 'rk:{rl:api}:g:__rand_int__' "$@" >/dev/null
}
measure() { # SHA ARGS...
  local sha=$1
  shift
  cli FLUSHALL >/dev/null
  if [ -n "$INSTRUCTIONS" ]; then
    decide "$sha" 200 1 "$@"
    callgrind_control -z "$server" >/dev/null 2>&1
    decide "$sha" "$N" 1 "$@"
    rm -f "$tmp"/cg.out.*
    callgrind_control -d "$server" >/dev/null 2>&1
    awk -v n="$N" '/^summary:/ { printf "%d\n", $2 / n }' "$tmp"/cg.out.*
  else
    cli CONFIG RESETSTAT >/dev/null
    decide "$sha" "$N" 4 "$@"
    cli INFO commandstats | sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p'
  fi
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
# The arguments of one decision (limit 100 per second, cost 1, server clock) in the layout
# of revision $1, into ARGS (rl_common.lua; earlier layouts had a mode, the clock, and
# before that count_denied, as arguments of their own).
decision_args() {
  local head
  head=$(show "$1" core/lua/rl_common.lua)
  if grep -q "count_denied = ARGV\[4\]" <<<"$head"; then
    ARGS=(limit '' 1 0 100 1000000 0)
  elif grep -q "ARGV\[1\] == 'count'" <<<"$head"; then
    ARGS=(limit '' 1 100 1000000 0)
  else
    ARGS=(1 100 1000000 0)
  fi
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

unit=$([ -n "$INSTRUCTIONS" ] && echo "instructions" || echo "µs")
echo "| algorithm | $BASE ($unit) | working tree ($unit) |"
echo "|---|---:|---:|"
for a in gcra token_bucket fixed_window sliding_window sliding_log; do
  before=$(script "$BASE" "$a" | cli -x SCRIPT LOAD)
  after=$(script '' "$a" | cli -x SCRIPT LOAD)
  decision_args "$BASE"
  before_args=("${ARGS[@]}")
  decision_args ''
  after_args=("${ARGS[@]}")
  b=""; w=""
  for _ in $(seq "$ROUNDS"); do
    b="$b $(measure "$before" "${before_args[@]}")"
    w="$w $(measure "$after" "${after_args[@]}")"
  done
  echo "| $a | $(echo "$b" | median) | $(echo "$w" | median) |"
done
