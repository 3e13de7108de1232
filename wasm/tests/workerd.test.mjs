// The package in the real Cloudflare Workers runtime (workerd, through Miniflare): the
// `workerd` entry with the .wasm imported as a module, REST to redkit-gateway.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { TOKEN, prefix, root, startServers } from './harness.mjs';

let servers;
let mf;
before(async () => {
  servers = await startServers();
  mf = new Miniflare({
    modules: true,
    modulesRoot: path.join(root, 'wasm'),
    scriptPath: path.join(root, 'wasm', 'tests', 'workerd-worker.mjs'),
    // The package is "type": "module": its .js files are ES modules.
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-01-01',
    bindings: { URL: servers.url, TOKEN, PREFIX: prefix('workerd') },
  });
});
after(async () => {
  await mf?.dispose();
  await servers?.stop();
});

test('the package runs in workerd: cache-aside, rate limiting, typed errors, panic recovery', async () => {
  const res = await mf.dispatchFetch('http://worker.test/');
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.deepEqual(JSON.parse(body), {
    first: { hello: 'workerd' },
    second: { hello: 'workerd' },
    calls: 1,
    badKey: 'ERR_INVALID_ARGUMENT',
    decisions: [[true, 1, 'limit'], [true, 0, 'limit'], [false, 0, 'limit']],
    badCost: 'ERR_INVALID_ARGUMENT',
    panic: 'ERR_PANIC',
    afterPanic: 'after',
  });
  const stored = await servers.redis.keys('*workerd*');
  assert.ok(stored.length >= 2, stored.join(' '));
});
