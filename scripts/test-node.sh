#!/usr/bin/env bash
# Build and test the Node binding (bindings-node/) and its examples:
#   npm ci where node_modules is missing or stale, build the addon (debug), check the
#   committed index.d.ts / index.js are what the build generates, type-check the
#   hand-written declarations, run the node:test suite (real redis-server), run the
#   examples against a local server, and install the package into a fresh folder to check
#   that `require('redkit')` and `import ... from 'redkit'` both work. The shared JS suite
#   (js/test/, the facade both JS packages use) runs here against the addon.
# Idempotent; installs what is missing (Debian); exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/bindings-node"
EXAMPLES="$ROOT/examples/node"
step() { printf '\n==> %s\n' "$*"; }

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
  else
    echo "missing: $* (install it, or run as root on Debian)" >&2
    exit 1
  fi
}
command -v node >/dev/null || apt_install nodejs npm
command -v redis-server >/dev/null || apt_install redis-server
command -v openssl >/dev/null || apt_install openssl
node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' || { echo "Node >= 18 needed, have $(node --version)" >&2; exit 1; }

# `npm ci` only when node_modules is missing or older than package-lock.json's content.
npm_ci_if_stale() {
  local dir="$1" stamp="$1/node_modules/.redkit-lock.sha256" want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    step "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}
npm_ci_if_stale "$PKG"

step "build the addon (debug) and check the committed generated files are fresh"
GENERATED=(index.d.ts index.js)
SNAP="$(mktemp -d)"
trap 'rm -rf "$SNAP"' EXIT
for f in "${GENERATED[@]}"; do cp "$PKG/$f" "$SNAP/$f"; done
(cd "$PKG" && npx napi build --platform --js index.js --dts index.d.ts)
for f in "${GENERATED[@]}"; do
  if ! cmp -s "$SNAP/$f" "$PKG/$f"; then
    diff -u "$SNAP/$f" "$PKG/$f" | head -40 || true
    echo "bindings-node/$f is stale: the build regenerated it (now updated in place); commit it." >&2
    exit 1
  fi
done

step "copy the shared JS facade (js/) into bindings-node/facade"
node "$ROOT/js/copy.mjs" "$PKG/facade"

step "type-check the declarations and lint the JS (tsc --checkJs)"
(cd "$PKG" && npx tsc -p .)

step "node:test suite"
(cd "$PKG" && node --test __test__/)

step "shared JS suite (js/test/) against the addon"
(cd "$ROOT" && REDKIT_JS_BACKEND=node node --test js/test/)

# One server for the examples and the install check, on a free loopback port.
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
REDIS_DIR="$(mktemp -d)"
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" --loglevel warning >/dev/null &
REDIS_PID=$!
trap 'kill "$REDIS_PID" 2>/dev/null || true; rm -rf "$SNAP" "$REDIS_DIR" "${FRESH:-}"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
export REDIS_URL="redis://127.0.0.1:$PORT"

step "examples/node"
npm_ci_if_stale "$EXAMPLES"
(cd "$EXAMPLES" && node cache.js && node express-route.mjs && node rate-limit-express.mjs && node email-worker.mjs && node express-queue.mjs && node --test embedded.test.mjs)

step "npm install ./bindings-node into a fresh folder; require and import"
FRESH="$(mktemp -d)"
(
  cd "$FRESH"
  echo '{"name":"fresh","version":"1.0.0","private":true}' >package.json
  # --install-links copies the package as a registry install would (no symlink).
  npm install --install-links --no-audit --no-fund --loglevel=error "$PKG"
  node -e '
    const { Client, Closed } = require("redkit")
    ;(async () => {
      const c = await Client.connect(process.env.REDIS_URL, { prefix: "fresh-cjs" })
      const cache = c.cache("c")
      await cache.set("k", { via: "require" })
      const v = await cache.get("k")
      if (v.via !== "require" || typeof Closed !== "function") throw new Error("bad")
      const { rateLimit } = require("redkit/express")
      const r = await c.rateLimiter("rl", { limit: 2 }).limit("u")
      if (typeof rateLimit !== "function" || r.remaining !== 1) throw new Error("bad rate limiter")
      await c.close()
      console.log("require(\"redkit\"): ok")
    })().catch((e) => { console.error(e); process.exit(1) })'
  node --input-type=module -e '
    import redkit, { Client, InvalidArgument, RateLimiter } from "redkit"
    import { rateLimit } from "redkit/express"
    const c = await Client.connect(process.env.REDIS_URL, { prefix: "fresh-esm" })
    const v = await c.cache("c").getOrSet("k", async () => ({ via: "import" }))
    if (v.via !== "import" || redkit.Client !== Client || typeof InvalidArgument !== "function") throw new Error("bad")
    if (typeof rateLimit !== "function" || !(c.rateLimiter("rl") instanceof RateLimiter)) throw new Error("bad rate limiter")
    await c.close()
    console.log("import from \"redkit\": ok")'
)

step "node binding: all checks passed"
