#!/usr/bin/env bash
# The tour: run every pattern's example, each printing what it does. Uses REDIS_URL when set,
# otherwise starts a throwaway redis-server on a free port.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if [ -z "${REDIS_URL:-}" ]; then
  ensure_redis
  start_redis
fi
cargo build -q -p redkit-examples --locked
for example in cache rate_limit; do
  log "example: $example"
  "$CARGO_TARGET_DIR/debug/$example"
done
