#!/usr/bin/env bash
# Instructions per operation at concurrency 1, in the node process (callgrind counts every
# thread of it: JS, V8, libuv and the addon) and in redis-server (also under callgrind,
# its counters zeroed before and dumped after each run): each contender runs with N1 and N2
# operations and the difference is divided by N2 - N1, so start-up, module loading and
# warm-up cancel out. redis-server's figures repeat to about 1 %; the node process's vary by
# up to 10 % from run to run (when V8 compiles and collects garbage depends on timing), so
# compare runs, not single figures. Kernel time (the syscalls, the same four per operation for every contender, counted
# with strace -c) is not in it.
#
#   bash bench/node/instructions-per-op.sh     (needs valgrind and redis-server; writes
#                                               bench/results/node-instructions.md)
set -euo pipefail
cd "$(dirname "$0")"
N1=${N1:-2000}
N2=${N2:-12000}
OUT=${OUT:-../results/node-instructions.md}
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$tmp" && exec valgrind --tool=callgrind --callgrind-out-file="$tmp/server.out" \
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$tmp/redis.log" 2>&1) &
server=$!
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$server"; rm -rf "$tmp"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done

# CONTENDER N -> "client server": instructions of the whole run in each process.
count() {
  local client
  callgrind_control -z "$server" >/dev/null 2>&1
  client=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/client.out" \
    node one-client.mjs "$1" "$2" "redis://127.0.0.1:$port" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
  rm -f "$tmp"/server.out.*
  callgrind_control -d "$server" >/dev/null 2>&1
  echo "$client $(awk '/^summary:/ { print $2 }' "$tmp"/server.out.*)"
}
# CONTENDER -> "client server" per operation.
per_op() {
  local a b
  read -r -a a <<<"$(count "$1" "$N1")"
  read -r -a b <<<"$(count "$1" "$N2")"
  echo "$(( (b[0] - a[0]) / (N2 - N1) )) $(( (b[1] - a[1]) / (N2 - N1) ))"
}
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
row() { # LABEL REDKIT PEER (each "client server")
  local r p
  read -r -a r <<<"$2"
  read -r -a p <<<"$3"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "${r[0]}" "${p[0]}" "$(ratio "${r[0]}" "${p[0]}")" \
    "${r[1]}" "${p[1]}" "$(( r[0] + r[1] ))" "$(( p[0] + p[1] ))"
}

get_io=$(per_op ioredis-get)
get_rk=$(per_op redkit-get)
raw_io=$(per_op ioredis-get-raw)
raw_rk=$(per_op redkit-get-bytes)
rl_io=$(per_op rlf-consume)
rl_rk=$(per_op redkit-limit)
{
  echo '## Node: instructions per operation, client and server'
  echo
  echo "callgrind over the whole node process (every thread) and over redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $((N2 - N1)) sequential operations (runs of $N2 minus runs of $N1, after 3,000 warm-up operations each) on 127.0.0.1, Node $(node --version). redis-server's figures repeat to about 1 %, the node process's vary by up to 10 % between runs (JIT and GC timing): compare several runs; kernel time is not counted (the syscalls per operation are the same for every contender: one write, one read, one or two epoll_wait). Rate limits: limit 100 per second, identifiers rotating over 10,000, as in node-ratelimit.md."
  echo
  echo '| operation (redkit / peer) | client: redkit | client: peer | client ratio | Redis: redkit | Redis: peer | both: redkit | both: peer |'
  echo '|---|---:|---:|---:|---:|---:|---:|---:|'
  row 'cache hit: `cache.get` / ioredis `get` + `JSON.parse`' "$get_rk" "$get_io"
  row 'cache hit, no decoding: `cache.get` (bytes codec) / ioredis `get` (raw string)' "$raw_rk" "$raw_io"
  row 'rate limit: fixed_window `limit` / rate-limiter-flexible `consume`' "$rl_rk" "$rl_io"
  echo
  echo 'Command: `bash bench/node/instructions-per-op.sh` (N1=2000, N2=12000).'
  echo
} >"$OUT"
cat "$OUT"
