#!/usr/bin/env bash
# Builds redkit-gateway, runs its Rust tests (real redis-server via redkit-testkit) and the
# node:test suite that drives the built binary with the real @upstash/redis client.
# Idempotent: installs only what is missing. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

echo "== cargo build -p redkit-gateway"
cargo build -p redkit-gateway

echo "== cargo test -p redkit-gateway"
cargo test -p redkit-gateway

echo "== node tests (@upstash/redis against the gateway)"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
cd gateway/tests-js
if [ ! -d node_modules/@upstash/redis ]; then
  npm ci --no-audit --no-fund
fi
REDKIT_GATEWAY_BIN="$target_dir/debug/redkit-gateway" node --test --test-reporter=spec
