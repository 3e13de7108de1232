// A loader asking for its own key (issue 16, item 1) in an edge runtime that has an
// AsyncLocalStorage global (Vercel Edge, Cloudflare Workers with nodejs_als): refused
// with InvalidArgument even after awaits, over both edge transports.

import { AsyncLocalStorage } from 'node:async_hooks';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

// As those runtimes provide it, before redkit first looks.
globalThis.AsyncLocalStorage = AsyncLocalStorage;
const { InvalidArgument } = await import('redkit-wasm');
const { prefix, startServers } = await import('./harness.mjs');

let servers;
before(async () => {
  servers = await startServers();
});
after(async () => {
  await servers?.stop();
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

for (const transport of ['rest', 'adapter']) {
  describe(`reentrant loaders over ${transport}, with AsyncLocalStorage`, () => {
    const client = (name) => servers.transports[transport](prefix(name));

    test('own key and A -> B -> A after awaits are InvalidArgument at once', async () => {
      const cache = client('reentry-als').cache('r', { lockTimeout: 10_000 });
      const started = Date.now();
      await assert.rejects(
        cache.getOrSet('a', async () => {
          await tick();
          return cache.getOrSet('a', () => 1);
        }),
        (e) => e instanceof InvalidArgument && /would wait for itself/.test(e.message),
      );
      const b = async () => {
        await tick();
        return cache.getOrSet('b', async () => {
          await tick();
          return cache.getOrSet('a', () => 'never');
        });
      };
      await assert.rejects(cache.getOrSet('a', b), InvalidArgument);
      // Refused at once, not after lockTimeout (10 s); 5 s leaves room for a loaded machine.
      assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
      assert.equal(await cache.getOrSet('a', async () => `outer:${await cache.getOrSet('c', () => 'inner')}`), 'outer:inner');
      // A call the loader leaves running after it ended belongs to no load.
      let late;
      assert.equal(await cache.getOrSet('d', () => {
        late = tick().then(() => cache.getOrSet('d', () => 'late'));
        return 'd';
      }), 'd');
      assert.equal(await late, 'd');
    });
  });
}
