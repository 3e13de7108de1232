// The backend the shared suite runs against, chosen by REDKIT_JS_BACKEND: `node` (the
// addon, bindings-node, over a real redis-server and the embedded engine) or `wasm` (the
// edge package, over REST through redkit-gateway and over the ioredis adapter). Each
// backend's transports make clients with their own key prefix; `command` reads the server
// directly, so a test can check what the core wrote.
//
//   REDKIT_JS_BACKEND=node node --test js/test/     (scripts/test-node.sh, after the build)
//   REDKIT_JS_BACKEND=wasm node --test js/test/     (scripts/test-wasm.sh, after the build)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const which = process.env.REDKIT_JS_BACKEND ?? 'node';
if (which !== 'node' && which !== 'wasm') throw new Error(`REDKIT_JS_BACKEND must be node or wasm, got ${which}`);

/** The package's exports (its public entry), for either backend. */
export const api = which === 'node' ? await import('../../bindings-node/redkit.mjs') : await import('../../wasm/js/index.js');
// The edge's test hooks (option reading, the error table): its own module, not the public entry.
const wasmDebug = which === 'wasm' ? await import('../../wasm/js/debug.js') : null;

/** `node` or `wasm`. */
export const backendName = which;

/**
 * The transports whose clients talk to a real redis-server that `command` can read (Node: the
 * server; edge: REST through the gateway and the adapter over ioredis). Suites that look at
 * what the core stored, or share state between clients through the server, run over these.
 */
export const serverTransports = which === 'node' ? ['server'] : ['rest', 'adapter'];

/** Every transport of the backend (Node: the server and the embedded engine; edge: REST and the adapter). */
export const allTransports = which === 'node' ? ['server', 'embedded'] : ['rest', 'adapter'];

/**
 * The scenarios of conformance/`kind`/ (see conformance/README.md), in file name order, each
 * its parsed JSON plus `file`, its file name.
 */
export function conformanceScenarios(kind) {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'conformance', kind);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, ...JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }));
}

/**
 * The file's backend (call at the top level): started before its tests, stopped after them.
 * Returns a function that gives the started backend (`startBackend`'s object).
 */
export function useBackend() {
  let backend;
  before(async () => {
    backend = await startBackend();
  });
  after(async () => {
    await backend?.stop();
  });
  return () => backend;
}

/**
 * For a suite (call it inside `describe`) over one transport of the backend `getBackend()`
 * returns once started: `client(name, p?)` resolves to a client with its own key prefix (or
 * `p`, to share one), closed after the suite; `command(...args)` reads the server.
 */
export function clientsOver(getBackend, transport) {
  const clients = [];
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
  });
  return {
    client: async (name, p = prefix(name)) => {
      const c = await getBackend().transports[transport].make(p);
      clients.push(c);
      return c;
    },
    command: (...args) => getBackend().transports[transport].command(...args),
  };
}

/**
 * The core's option reading (`pattern`: connect, cache, rate_limiter...): the resolved
 * options as JSON text, or InvalidArgument. The addon's debug hook throws a plain Error
 * whose message carries the code; it is raised here as the package's InvalidArgument.
 */
export function resolveOptions(pattern, opts) {
  if (which === 'wasm') return wasmDebug.resolveOptions(pattern, opts);
  try {
    return require('../../bindings-node/index.js').__resolveOptions(pattern, opts);
  } catch (e) {
    if (/ERR_INVALID_ARGUMENT/.test(e?.message)) throw new api.InvalidArgument(e.message, { cause: e });
    throw e;
  }
}

/**
 * The client a conformance scenario replays on: over `transport` of the started backend, or,
 * for `"backend": "unreachable"` (conformance/README.md), one whose server is unreachable
 * (nothing listens on its port; the edge's over REST whatever the transport).
 */
export async function scenarioClient(getBackend, transport, scenario, p) {
  if (scenario.backend === undefined) return getBackend().transports[transport].make(p);
  assert.equal(scenario.backend, 'unreachable', `unknown scenario backend in ${scenario.file}`);
  if (which === 'node') return api.Client.connect('redis://127.0.0.1:1', { prefix: p, lazyConnect: true, retries: 0 });
  return api.Client.rest({ url: 'http://127.0.0.1:9', prefix: p, retries: 0 });
}

/**
 * Make a client with these connection options, sending nothing to any server (Node: the
 * embedded engine; edge: a REST client, which connects on first use); resolves to the
 * client, or rejects with InvalidArgument. Options that are not an object are read by the
 * core (the edge's Client.rest needs an object to find its url in).
 */
export async function offlineClient(options) {
  if (which === 'node') return api.Client.connect('embedded://', options);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    resolveOptions('connect', options);
    return api.Client.rest({ url: 'http://127.0.0.1:9' });
  }
  return api.Client.rest({ ...options, url: 'http://127.0.0.1:9' });
}

/** The core's `code -> class name` table, as the backend's native module exports it. */
export function coreErrorClasses() {
  return which === 'node' ? require('../../bindings-node/index.js').errorClasses() : wasmDebug.errorClasses();
}

let counter = 0;
/** A key prefix no other test (in any process) uses. */
export function prefix(name) {
  counter += 1;
  return `js${which}${process.pid}x${counter}x${name.replace(/[^a-z0-9]/gi, '')}`;
}

/** One RESP2 reply in `buf` from `at`: `[value, next]`, or null while incomplete. */
function reply(buf, at) {
  const eol = buf.indexOf('\r\n', at);
  if (eol === -1) return null;
  const head = String.fromCharCode(buf[at]);
  const rest = buf.toString('utf8', at + 1, eol);
  if (head === '+') return [rest, eol + 2];
  if (head === '-') return [new Error(rest), eol + 2];
  if (head === ':') return [Number(rest), eol + 2];
  const n = Number(rest);
  if (n < 0) return [null, eol + 2];
  if (head === '$') {
    if (buf.length < eol + 2 + n + 2) return null;
    return [buf.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2];
  }
  const items = [];
  let next = eol + 2;
  for (let i = 0; i < n; i++) {
    const item = reply(buf, next);
    if (item === null) return null;
    items.push(item[0]);
    next = item[1];
  }
  return [items, next];
}

/** Send one command to the server on `port` on a fresh connection; the parsed reply. */
function sendCommand(port, args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const payload = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;
    let buf = Buffer.alloc(0);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = reply(buf, 0);
      if (r === null) return;
      sock.destroy();
      resolve(r[0]);
    });
    sock.on('error', reject);
  });
}

/**
 * Start the servers the backend needs; resolves to `{ transports, command, stop }`:
 * `transports` maps a transport's name to `async (prefix) => client` (its `command` is
 * null where there is no server to read: the embedded engine).
 */
export async function startBackend() {
  if (which === 'node') {
    const { startServer } = require('../../bindings-node/__test__/server.js');
    const server = await startServer();
    const { Client } = api;
    const command = (...args) => sendCommand(server.port, args);
    return {
      transports: {
        server: { make: (p) => Client.connect(server.url, { prefix: p }), command },
        embedded: { make: (p) => Client.embedded({ prefix: p }), command: null },
      },
      stop: () => server.stop(),
    };
  }
  const { startServers } = await import('../../wasm/tests/harness.mjs');
  const servers = await startServers();
  const command = (...args) => sendCommand(servers.redisPort, args);
  return {
    transports: {
      rest: { make: async (p) => servers.transports.rest(p), command },
      adapter: { make: async (p) => servers.transports.adapter(p), command },
    },
    stop: () => servers.stop(),
  };
}
