# Sourced by scripts/test-python.sh and bench/python/run.sh: a cached virtualenv with the
# Python tools redkit's Python side needs, installed only when missing.
#
#   REDKIT_CACHE_DIR  where the venv lives (default ~/.cache/redkit)
#   PYTHON            the interpreter to build the venv from (default python3)

REDKIT_CACHE_DIR=${REDKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/redkit}
VENV=${REDKIT_PY_VENV:-$REDKIT_CACHE_DIR/venv}
PYTHON=${PYTHON:-python3}

# Debian's python3 has no `venv` without the python3-venv package: fall back to virtualenv.
make_venv() {
    "$PYTHON" -m venv "$1" 2>/dev/null && "$1/bin/python" -m pip --version >/dev/null 2>&1 && return 0
    rm -rf "$1"
    "$PYTHON" -m pip install --user --quiet virtualenv && "$PYTHON" -m virtualenv --quiet "$1"
}

# ensure_py_tools MODULE=REQUIREMENT ...: pip install the requirements whose module does not import.
ensure_py_tools() {
    [ -x "$VENV/bin/python" ] || { echo "creating $VENV"; mkdir -p "$(dirname "$VENV")"; make_venv "$VENV"; }
    local missing=()
    for pair in "$@"; do
        "$VENV/bin/python" -c "import ${pair%%=*}" 2>/dev/null || missing+=("${pair#*=}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing into $VENV: ${missing[*]}"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        "$VENV/bin/python" -m pip install --quiet "${missing[@]}"
    fi
}
