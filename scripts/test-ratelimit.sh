#!/usr/bin/env bash
# Build and test the Rust core of the rate limiter (issue 5): lints, unit tests, the tests
# against real redis-servers (started by the test harness on free ports), the conformance
# scenarios, and the runnable example. Idempotent; installs redis-server if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null; then
  echo "installing redis-server"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

files=(core/src/ratelimit/*.rs core/tests/ratelimit*.rs core/tests/conformance_ratelimit.rs examples/rust/rate_limit.rs)
rustfmt --edition 2021 --check "${files[@]}"
cargo clippy -q -p redkit --all-targets -- -D warnings

cargo test -q -p redkit --lib ratelimit::
cargo test -q -p redkit --test ratelimit --test ratelimit_server --test ratelimit_exactness \
  --test ratelimit_footprint --test conformance_ratelimit

# The example, against a throwaway server on a free port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize yes \
  --pidfile "$dir/redis.pid" >/dev/null
trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
out=$(cargo run -q -p redkit --example rate_limit -- "redis://127.0.0.1:$port")
echo "$out"
grep -q "request 6: 429" <<<"$out" && grep -q "local_block" <<<"$out" && grep -q "after waiting: allowed = true" <<<"$out"
echo "rate limiter example: ok"
