// The everyday cache operations through either JS package, over every transport that talks
// to a real redis-server: getMany / setMany / deleteMany in one round trip each, exists /
// ttl / touch, incr, clear and stats. The shared rules are pinned by conformance/cache
// (conformance-cache.test.mjs); this file covers the JS shapes: arrays, objects and Maps,
// the bytes codec, argument errors, round trips.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api, clientsOver, serverTransports, useBackend } from './harness.mjs';

const { InvalidArgument } = api;
const backend = useBackend();

/** How many times the server ran each of `names` so far (INFO commandstats). */
async function calls(command, names) {
  const info = await command('INFO', 'commandstats');
  return names.map((name) => Number(info.match(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm'))?.[1] ?? 0));
}

for (const transport of serverTransports) {
  describe(`cache operations over ${transport}`, () => {
    const { client, command } = clientsOver(backend, transport);

    test('getMany, setMany and deleteMany are one round trip each', async () => {
      const cache = (await client('rt')).cache('rt', { ttl: 60_000 });
      await cache.setMany({ warm: 0 }, { tags: ['t'] }); // loads the script
      const entries = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, { i }]));
      const names = ['evalsha', 'mget', 'del', 'get'];
      const before = await calls(command, names);
      await cache.setMany(entries, { tags: ['t', 'u'] });
      assert.deepEqual(await cache.getMany(Object.keys(entries)), Object.values(entries));
      assert.equal(await cache.deleteMany(Object.keys(entries)), 100);
      const after = await calls(command, names);
      assert.deepEqual(
        after.map((n, i) => n - before[i]),
        [1, 1, 1, 0],
      );
    });

    test('a Map of entries, counters read back as numbers, stats in camelCase', async () => {
      const cache = (await client('shapes')).cache('shapes', { ttl: 60_000, earlyRefresh: 0 });
      await cache.setMany(new Map([['a', 1], ['b', [2]]]), { ttl: '30s' });
      assert.deepEqual(await cache.getMany(['a', 'b', 'z']), [1, [2], null]);
      const ttl = await cache.ttl('a');
      // Judged by the client's estimate of the server's clock: a little either way.
      assert.ok(ttl > 29_000 && ttl <= 31_000, `${ttl}`);
      assert.equal(await cache.touch('a', '1h'), true);
      assert.ok((await cache.ttl('a')) > 3_500_000);
      assert.equal(await cache.exists('a'), true);
      assert.equal(await cache.incr('n'), 1);
      assert.equal(await cache.incr('n', 9, { ttl: 5_000 }), 10);
      assert.equal(await cache.get('n'), 10);
      assert.ok((await cache.ttl('n')) > 59_000, 'the first incr made it with the namespace ttl');
      assert.deepEqual(cache.stats(), { hits: 3, misses: 1, staleServes: 0, nearHits: 0, loaderCalls: 0, errors: 0 });
      assert.equal(await cache.clear(), 3);
      assert.deepEqual(await cache.getMany(['a', 'b', 'n']), [null, null, null]);
    });

    test('the bytes codec crosses getMany and setMany as bytes', async () => {
      const cache = (await client('bytes')).cache('bytes', { codec: 'bytes' });
      const big = new Uint8Array(100_000).fill(7);
      // UTF-8 bytes: the REST transport carries arguments as JSON strings (its own suite covers that).
      await cache.setMany({ a: new Uint8Array([0, 104, 10]), e: new Uint8Array(0), big });
      const [a, missing, e, got] = await cache.getMany(['a', 'nope', 'e', 'big']);
      assert.deepEqual([...a], [0, 104, 10]);
      assert.equal(missing, null);
      assert.equal(e.length, 0);
      assert.equal(got.length, 100_000);
      assert.equal(await cache.incr('n', 5), 5);
      assert.deepEqual(new TextDecoder().decode(await cache.get('n')), '5');
    });

    test('wrong argument shapes are an InvalidArgument, and store nothing', async () => {
      const cache = (await client('bad')).cache('bad');
      const refused = [
        () => cache.getMany('ab'),
        () => cache.getMany([1]),
        () => cache.deleteMany('a'),
        () => cache.deleteMany([null]),
        () => cache.setMany([['a', 1]]),
        () => cache.setMany(null),
        () => cache.setMany(new Map([[1, 'a']])),
        () => cache.exists(1),
        () => cache.ttl(undefined),
        () => cache.touch('a'),
        () => cache.touch('a', -1),
        () => cache.incr('n', 1.5),
        () => cache.incr('n', '1'),
        () => cache.incr('n', 2 ** 53),
        () => cache.incr('n', NaN),
        () => cache.incr('n', 1, { ttl: 0 }),
        () => cache.incr('n', 1, { tags: ['t'] }),
        () => cache.incr('n', 1, 'ttl'),
      ];
      for (const call of refused) {
        await assert.rejects(call(), InvalidArgument, `${call}`);
      }
      assert.equal(await cache.get('n'), null);
    });
  });
}
