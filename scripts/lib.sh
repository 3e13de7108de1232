# Shared helpers for redkit's scripts: install what is missing, start throwaway servers.
# Sourced, not run.

# Build artifacts live outside the checkout so a fresh clone (CI) reuses what an earlier
# run compiled; cargo's fingerprints rebuild whatever changed.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/redkit/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log() { printf '\n==> %s\n' "$*"; }

apt_updated=""
apt_install() {
  # apt_install PACKAGE... : install Debian packages that are not installed yet.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_redis() {
  command -v redis-server >/dev/null 2>&1 || { log "installing redis-server"; apt_install redis-server; }
  # Debian's package starts a system service on 6379; tests never use it, so leave it be.
}

ensure_tools() {
  # openssl makes the certificates of the TLS tests.
  command -v openssl >/dev/null 2>&1 || apt_install openssl
}

ensure_rust_components() {
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_redis: start a throwaway redis-server on a free port; sets REDIS_PORT, REDIS_URL and
# stops it when the calling shell exits.
start_redis() {
  REDIS_PORT=$(free_port)
  REDIS_DIR=$(mktemp -d)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$REDIS_DIR" --daemonize no --loglevel warning >/dev/null &
  REDIS_PID=$!
  trap 'kill $REDIS_PID 2>/dev/null; rm -rf "$REDIS_DIR"' EXIT
  for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  export REDIS_PORT REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
}
