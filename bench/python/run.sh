#!/usr/bin/env bash
# Python benchmarks: installs a release build of redkit plus the peers (redis-py with
# hiredis, cashews, limits) into the cached venv, then runs one benchmark against a private
# redis-server on 127.0.0.1:
#   bash bench/python/run.sh [cache]   bench_cache.py -> bench/results/python-cache.md
#   bash bench/python/run.sh ratelimit ratelimit.py  -> bench/results/python-ratelimit.md
#   bash bench/python/run.sh queue     bench_queue.py -> bench/results/python-queue.md
#     (peers bullmq, RQ, Celery beside redkit; arq in a venv of its own: arq pins redis-py
#     below 6, bullmq needs 6.2 or later)
#   BENCH_SECONDS=3 (per cell); REDIS_URL to use an existing local server instead.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib.sh
. "$ROOT/scripts/lib.sh"
# shellcheck source=../../scripts/python-env.sh
. "$ROOT/scripts/python-env.sh"
ensure_redis

ensure_py_tools maturin="maturin>=1.5,<2" redis="redis>=5" hiredis="hiredis>=3" cashews="cashews>=7" limits="limits[redis]>=5,<6"
export PATH="$VENV/bin:$PATH"
"$VENV/bin/python" -m pip install --quiet --no-build-isolation --force-reinstall --no-deps "$ROOT/bindings-python"
mkdir -p "$ROOT/bench/results"
case "${1:-cache}" in
    cache) "$VENV/bin/python" "$ROOT/bench/python/bench_cache.py" --out "$ROOT/bench/results/python-cache.md" ;;
    ratelimit)
        "$VENV/bin/python" "$ROOT/bench/python/ratelimit.py" --out "$ROOT/bench/results/python-ratelimit.md" \
            --command "BENCH_SECONDS=${BENCH_SECONDS:-3} bash bench/python/run.sh ratelimit"
        ;;
    queue)
        ensure_py_tools bullmq="bullmq>=3" rq="rq>=2" celery="celery[redis]>=5"
        ARQ_VENV="$REDKIT_CACHE_DIR/venv-arq"
        VENV="$ARQ_VENV" ensure_py_tools arq="arq>=0.26" hiredis="hiredis>=3"
        "$VENV/bin/python" "$ROOT/bench/python/bench_queue.py" --out "$ROOT/bench/results/python-queue.md" \
            --arq-python "$ARQ_VENV/bin/python" \
            --command "BENCH_JOBS=${BENCH_JOBS:-20000} bash bench/python/run.sh queue"
        ;;
    *) echo "usage: $0 [cache|ratelimit|queue]" >&2; exit 2 ;;
esac
