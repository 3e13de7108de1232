// A loader asking for its own key, directly or A -> B -> A (issue 16, item 1), over both
// edge transports, in a runtime without AsyncLocalStorage: a call made in the loader's
// synchronous part is refused at once; one made after an await cannot be told from
// another caller's, and gives up after lockTimeout instead of hanging the key for good.
// reentry-als.test.mjs covers runtimes that have one.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument, TimeoutError } from 'redkit-wasm';
import { prefix, startServers } from './harness.mjs';

let servers;
before(async () => {
  assert.equal(globalThis.AsyncLocalStorage, undefined, 'this file tests the runtime without one');
  servers = await startServers();
});
after(async () => {
  await servers?.stop();
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

for (const transport of ['rest', 'adapter']) {
  describe(`reentrant loaders over ${transport}`, () => {
    const client = (name) => servers.transports[transport](prefix(name));

    test('own key and A -> B -> A called synchronously in the loader are InvalidArgument', async () => {
      const cache = client('reentry').cache('r', { lockTimeout: 10_000 });
      const started = Date.now();
      await assert.rejects(
        cache.getOrSet('a', () => cache.getOrSet('a', () => 1)),
        (e) => e instanceof InvalidArgument && /would wait for itself/.test(e.message),
      );
      await assert.rejects(
        cache.getOrSet('a', () => cache.getOrSet('b', () => cache.getOrSet('a', () => 'never'))),
        InvalidArgument,
      );
      // Refused at once, not after lockTimeout (10 s); 5 s leaves room for a loaded machine.
      assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
      assert.equal(await cache.getOrSet('a', async () => `outer:${await cache.getOrSet('c', () => 'inner')}`), 'outer:inner');
      assert.equal(await cache.getOrSet('b', () => 'b'), 'b');
    });

    test('after an await, the wait is bounded by lockTimeout and the key recovers', async () => {
      const cache = client('reentry-late').cache('r', { lockTimeout: 300 });
      const started = Date.now();
      await assert.rejects(
        cache.getOrSet('a', async () => {
          await tick();
          return cache.getOrSet('a', () => 1);
        }),
        TimeoutError,
      );
      assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
      assert.equal(await cache.getOrSet('a', () => 'later'), 'later');
    });
  });
}
