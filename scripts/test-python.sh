#!/usr/bin/env bash
# Build the Python binding, install it the way users do (pip install ./bindings-python),
# then: ruff, mypy --strict (inside pytest), the pytest suite against a real redis-server,
# and the examples. Idempotent; installs only what is missing. Dev profile for speed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/scripts/lib.sh"
# shellcheck source=python-env.sh
. "$ROOT/scripts/python-env.sh"
ensure_redis

# Linters pinned: a new release must not turn CI red on its own.
ensure_py_tools maturin="maturin>=1.5,<2" pytest="pytest>=8" mypy="mypy==2.4.1" pyright="pyright==1.1.414" ruff="ruff==0.17.6" flask="flask>=3" msgpack="msgpack>=1" starlette="starlette>=0.40,<1" httpx="httpx>=0.27,<1" fastapi="fastapi>=0.110,<0.164"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
# A debug build is plenty for tests and builds several times faster than release.
export MATURIN_PEP517_ARGS="--profile dev"

log "lint (ruff)"
PY_DIRS=(bindings-python examples/python bench/python)
(cd "$ROOT" && "$VENV/bin/ruff" check "${PY_DIRS[@]}" && "$VENV/bin/ruff" format --check "${PY_DIRS[@]}")

log "pip install ./bindings-python into a fresh venv"
FRESH=$(mktemp -d)
trap 'rm -rf "$FRESH"' EXIT
make_venv "$FRESH/venv"
"$FRESH/venv/bin/python" -m pip install --quiet "$ROOT/bindings-python"
"$FRESH/venv/bin/python" - <<'PY'
import importlib.resources, redkit, redkit.asyncio
files = {p.name for p in importlib.resources.files("redkit").iterdir()}
assert {"py.typed", "_redkit.pyi"} <= files, files
assert issubclass(redkit.Closed, redkit.RedkitError)
print("fresh venv: import redkit", redkit.__version__, "ok")
PY
rm -rf "$FRESH"

log "install into $VENV"
"$PY" -m pip install --quiet --no-build-isolation --force-reinstall --no-deps "$ROOT/bindings-python"

log "pytest"
(cd "$ROOT/bindings-python" && "$PY" -m pytest -q -p no:cacheprovider tests)

log "examples"
start_redis
for example in "$ROOT"/examples/python/*.py; do
    echo "-- $(basename "$example")"
    "$PY" "$example"
done
echo "test-python: all passed"
