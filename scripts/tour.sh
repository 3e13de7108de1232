#!/usr/bin/env bash
# The tour: run every pattern's example, each printing what it does. By default on the
# embedded engine (no server needed); set REDIS_URL=redis://… to run it against a server.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

export REDIS_URL="${REDIS_URL:-embedded://}"
cargo build -q -p redkit-examples --locked
for example in cache rate_limit email_worker; do
  log "example: $example ($REDIS_URL)"
  "$CARGO_TARGET_DIR/debug/$example"
done
