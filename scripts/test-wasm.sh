#!/usr/bin/env bash
# Builds the edge package (cargo wasm32 -> wasm-bindgen -> wasm-opt), records its size in
# bench/results/wasm-size.md, and runs the shared JS suite (js/test/: cache, rate limiter,
# queue, errors and every conformance replay, over REST through redkit-gateway and over the
# ioredis adapter, real redis-server), the edge package's own suite (wasm/tests/: what only
# the edge has: the REST protocol, workerd, panics, the HTTP glue), and the edge examples
# (cache-aside, rate limiting middleware, enqueueing).
# Idempotent: installs only what is missing. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
# wasm-bindgen-cli builds `ring`, which needs a C compiler.
command -v cc >/dev/null || need_apt+=(build-essential)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "== rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  echo "== cargo install wasm-bindgen-cli $want (found: ${have:-none}; about 3.5 min on 2 cores)"
  cargo install wasm-bindgen-cli --version "$want"
fi

echo "== npm install (wasm: binaryen for wasm-opt; tests: ioredis, redis, miniflare, typescript; example: hono)"
for dir in wasm wasm/tests examples/edge; do
  # Reinstall only when the lock file changed since the last install.
  (cd "$dir" && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; })
done

echo "== build wasm/pkg"
sh wasm/build.sh

echo "== size"
node wasm/size-report.mjs wasm/pkg/redkit_wasm_bg.wasm \
  "${CARGO_TARGET_DIR:-$root/target}/wasm32-unknown-unknown/release/redkit_wasm.wasm" \
  bench/results/wasm-size.md

echo "== cargo build -p redkit-gateway (the REST tests run against it)"
cargo build -p redkit-gateway
export REDKIT_GATEWAY_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/redkit-gateway"

echo "== node tests (wasm package)"
(cd wasm/tests && node --test --test-reporter=spec)

echo "== shared JS suite (js/test/) against the wasm package"
REDKIT_JS_BACKEND=wasm node --test --test-reporter=spec js/test/

echo "== edge example"
(cd examples/edge && node --test --test-reporter=spec)
