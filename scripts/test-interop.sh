#!/usr/bin/env bash
# One queue, every runtime (interop/README.md): the producer x worker matrix (producers
# Rust, Python, Node and the edge package over redkit-gateway; workers Rust, Python and
# Node, each pair a batch of jobs compared exactly), then a short chaos run (4,000 jobs,
# 2 Python and 2 Node worker processes SIGKILLed at random, the server restarted once).
#
# Runs after test-python.sh, test-node.sh and test-wasm.sh in scripts/test.sh and reuses
# what they built; alone, it builds what is missing (the Python binding into the cached
# venv, the Node addon, the wasm package). Exits non-zero on any failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/scripts/lib.sh"
# shellcheck source=python-env.sh
. "$ROOT/scripts/python-env.sh"
ensure_redis
ensure_py_tools maturin="maturin>=1.5,<2" mypy="mypy==2.4.1" ruff="ruff==0.17.6"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"

log "lint the drivers (ruff, mypy --strict)"
(cd "$ROOT" && ruff check interop && ruff format --check interop)
(cd "$ROOT/interop" && mypy --strict --no-error-summary --cache-dir=/dev/null .)

log "build what the matrix runs"
cargo build -q -p redkit-examples --examples --locked
cargo build -q -p redkit-gateway --locked
if ! "$PY" -c 'import redkit' 2>/dev/null; then
  MATURIN_PEP517_ARGS="--profile dev" "$PY" -m pip install --quiet --no-build-isolation --no-deps "$ROOT/bindings-python"
fi
if ! ls "$ROOT"/bindings-node/*.node >/dev/null 2>&1; then
  (cd "$ROOT/bindings-node" && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } \
    && npx napi build --platform --js index.js --dts index.d.ts)
fi
if [ ! -f "$ROOT/wasm/pkg/redkit_wasm_bg.wasm" ]; then
  (cd "$ROOT/wasm" && { [ -d node_modules ] || npm ci --no-audit --no-fund; }) && sh "$ROOT/wasm/build.sh"
fi

log "producer x worker matrix"
"$PY" "$ROOT/interop/matrix.py" --producers rust,python,node,edge --workers rust,python,node

log "chaos: mixed worker processes under SIGKILL and a server restart"
"$PY" "$ROOT/interop/chaos.py" --jobs 4000 --workers python,python,node,node
