#!/usr/bin/env bash
# The embedded engine: its unit tests, its own integration tests, the differential test
# against a real redis-server, and every core integration suite on both backends.
# Idempotent; installs redis-server when missing (the differential and dual-backend tests
# need the real one beside the engine).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_redis
log "embedded engine: unit tests"
cargo test -p redkit --locked --lib transport::embedded
log "embedded engine: engine-only, differential and dual-backend suites"
cargo test -p redkit --locked \
  --test embedded --test differential --test smoke --test cache \
  --test ratelimit --test ratelimit_exactness --test conformance --test conformance_ratelimit
log "the tour on the embedded engine, with no usable redis-server on the PATH"
# A stub that fails shadows the real server: anything that tried to start one would fail.
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
for tool in redis-server redis-cli; do
  printf '#!/bin/sh\necho "%s must not be needed by the embedded tour" >&2\nexit 1\n' "$tool" >"$stub/$tool"
  chmod +x "$stub/$tool"
done
PATH="$stub:$PATH" REDIS_URL=embedded:// bash scripts/tour.sh
