#!/usr/bin/env bash
# Install what is missing, then run every check and every test of every runtime.
# This is what CI runs (.ci/run). Works on a fresh Debian machine with rustup.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

started=$(date +%s)
ensure_redis
ensure_tools
ensure_rust_components

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy (native workspace)"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "core builds for wasm without the native transport"
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo check -p redkit --target wasm32-unknown-unknown --no-default-features --locked

log "the core's msgpack codec (an optional feature no workspace crate turns on)"
cargo clippy -p redkit --features msgpack --lib --locked -- -D warnings
cargo test -p redkit --features msgpack --lib --locked cache::codec

log "cargo test (Rust core, every backend)"
cargo test --workspace --locked

log "the tour on the embedded engine, with redis-server shadowed by a stub that fails"
stub=$(mktemp -d)
for tool in redis-server redis-cli; do
  printf '#!/bin/sh\necho "%s must not be needed by the tour" >&2\nexit 1\n' "$tool" >"$stub/$tool"
  chmod +x "$stub/$tool"
done
PATH="$stub:$PATH" REDIS_URL=embedded:// bash scripts/tour.sh
rm -rf "$stub"

log "the tour against a real redis-server"
(start_redis && bash scripts/tour.sh)

# Each binding brings its own script (build, install, lint, test, examples).
for part in gateway python node wasm interop; do
  if [ -f "scripts/test-$part.sh" ]; then
    log "$part"
    bash "scripts/test-$part.sh"
  fi
done

log "all green in $(( $(date +%s) - started )) s"
