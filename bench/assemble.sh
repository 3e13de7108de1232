#!/usr/bin/env bash
# Rebuild bench/RESULTS.md from bench/summary.md and every table in bench/results/.
set -euo pipefail
cd "$(dirname "$0")"
{
  cat summary.md
  for f in results/rust-cache.md results/rust-queue.md results/python-queue.md results/node-queue.md results/queue-quiet.md results/queue-memory.md results/queue-chaos.md results/rust-engine.md results/python-cache.md results/node-cache.md results/node-cache-ab.md results/node-interleaved.md results/node-instructions.md results/node-paired.md \
           results/python-ratelimit.md results/node-ratelimit.md results/ratelimit-script-cpu.md results/fail-safe.md results/wasm-size.md results/code-notes.md; do
    [ -f "$f" ] || continue
    printf '\n---\n\n<!-- %s -->\n' "$f"
    # Section titles one level down, under this page's title.
    sed -e 's/^# /## /' "$f"
  done
} > RESULTS.md
echo "wrote bench/RESULTS.md"
