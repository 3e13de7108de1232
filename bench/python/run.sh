#!/usr/bin/env bash
# Python cache-hit benchmark: installs a release build of redkit plus the peers
# (redis-py with hiredis, cashews) into the cached venv, then runs bench_cache.py against
# a private redis-server on 127.0.0.1. Writes bench/results/python-cache.md.
#   BENCH_SECONDS=3 (per cell); REDIS_URL to use an existing local server instead.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib.sh
. "$ROOT/scripts/lib.sh"
# shellcheck source=../../scripts/python-env.sh
. "$ROOT/scripts/python-env.sh"
ensure_redis

ensure_py_tools maturin="maturin>=1.5,<2" redis="redis>=5" hiredis="hiredis>=3" cashews="cashews>=7"
export PATH="$VENV/bin:$PATH"
"$VENV/bin/python" -m pip install --quiet --no-build-isolation --force-reinstall --no-deps "$ROOT/bindings-python"
mkdir -p "$ROOT/bench/results"
"$VENV/bin/python" "$ROOT/bench/python/bench_cache.py" --out "$ROOT/bench/results/python-cache.md"
