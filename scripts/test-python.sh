#!/usr/bin/env bash
# Build the Python binding, install it the way users do (pip install ./bindings-python),
# then: ruff, mypy --strict (inside pytest), the pytest suite against a real redis-server,
# and the examples. Idempotent; installs only what is missing. Dev profile for speed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=python-env.sh
. "$ROOT/scripts/python-env.sh"

# Linters pinned: a new release must not turn CI red on its own.
ensure_tools maturin="maturin>=1.5,<2" pytest="pytest>=8" mypy="mypy==2.4.1" ruff="ruff==0.17.6" flask="flask>=3" msgpack="msgpack>=1"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
# A debug build is plenty for tests and builds several times faster than release.
export MATURIN_PEP517_ARGS="--profile dev"

echo "== lint (ruff)"
PY_DIRS=(bindings-python examples/python bench/python)
(cd "$ROOT" && "$VENV/bin/ruff" check "${PY_DIRS[@]}" && "$VENV/bin/ruff" format --check "${PY_DIRS[@]}")

echo "== pip install ./bindings-python into a fresh venv"
FRESH=$(mktemp -d)
REDIS_PID=""
cleanup() { rm -rf "$FRESH"; [ -z "$REDIS_PID" ] || kill "$REDIS_PID" 2>/dev/null || true; }
trap cleanup EXIT
make_venv "$FRESH/venv"
"$FRESH/venv/bin/python" -m pip install --quiet "$ROOT/bindings-python"
"$FRESH/venv/bin/python" - <<'PY'
import importlib.resources, redkit, redkit.asyncio
files = {p.name for p in importlib.resources.files("redkit").iterdir()}
assert {"py.typed", "_redkit.pyi"} <= files, files
assert issubclass(redkit.Closed, redkit.RedkitError)
print("fresh venv: import redkit", redkit.__version__, "ok")
PY

echo "== install into $VENV"
"$PY" -m pip install --quiet --no-build-isolation --force-reinstall --no-deps "$ROOT/bindings-python"

echo "== pytest"
(cd "$ROOT/bindings-python" && "$PY" -m pytest -q -p no:cacheprovider tests)

echo "== examples"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$FRESH" --loglevel warning >/dev/null &
REDIS_PID=$!
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
export REDIS_URL="redis://127.0.0.1:$PORT"
for example in "$ROOT"/examples/python/*.py; do
    echo "-- $(basename "$example")"
    "$PY" "$example"
done
echo "test-python: all passed"
