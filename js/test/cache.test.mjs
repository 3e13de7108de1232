// The cache through either JS package, over every transport of the backend that talks to a
// real redis-server (Node: the server; edge: REST through the gateway and the adapter over
// ioredis): values, ttl, loaders and stampede protection, the Redis lock across clients,
// tags, wrap, bad input, the shared layout, staleTtl and close. What only one package has
// (Node's msgpack codec, Buffers, native batching, process lifetime; the edge's transports,
// panics and binary limits over REST) stays in that package's suite.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api, clientsOver, prefix, serverTransports, useBackend } from './harness.mjs';

const { Closed, DecodeError, EncodeError, InvalidArgument, RedkitError } = api;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const backend = useBackend();

for (const transport of serverTransports) {
  describe(`cache over ${transport}`, () => {
    const { client, command } = clientsOver(backend, transport);

    test('ping and check', async () => {
      const c = await client('ping');
      assert.equal(await c.ping(), undefined);
      const report = await c.check();
      assert.match(report.serverVersion, /^\d+\.\d+/);
      assert.equal(report.persistence, 'none');
      assert.ok(Array.isArray(report.warnings));
    });

    test('JSON values of every shape round-trip', async () => {
      const cache = (await client('json')).cache('json', { ttl: 60_000 });
      const values = [0, -1.5, 'text ✓', true, false, [1, 'a', null], { a: { b: [1, { c: 'd' }] } }, '', []];
      for (const [i, v] of values.entries()) {
        await cache.set(`k${i}`, v);
        assert.deepEqual(await cache.get(`k${i}`), v);
      }
      assert.equal(await cache.get('never'), null);
    });

    test('set, get, delete round-trip JSON values', async () => {
      const users = (await client('basic')).cache('users', { ttl: 60_000 });
      const ada = { id: 1, name: 'Ada', tags: ['a'], score: 1.5, admin: false, manager: null };
      assert.equal(await users.get('user:1'), null);
      assert.equal(await users.set('user:1', ada), undefined);
      assert.deepEqual(await users.get('user:1'), ada);
      await users.set('user:2', 'two');
      assert.equal(await users.delete('user:1', 'user:2', 'never'), 2);
      // One shape in every runtime: keys as separate arguments, an array is refused.
      await assert.rejects(users.delete(['user:1']), InvalidArgument);
      assert.equal(await users.get('user:1'), null);
    });

    test('entries are stored in the shared layout, and one client reads what another wrote', async () => {
      const p = prefix('layout');
      const users = (await client('layout', p)).cache('users');
      await users.set('u', { a: 1 });
      assert.match(await command('GET', `${p}:{cache:users}:k:u`), /^v1:\d+:\d+:\{"a":1\}$/);
      await users.set('user:42', { id: 42 });
      const second = await client('layout', p);
      assert.deepEqual(await second.cache('users').get('user:42'), { id: 42 });
    });

    test('ttl per namespace and per write; entries expire', async () => {
      const cache = (await client('ttl')).cache('ttl', { ttl: 60_000, earlyRefresh: 0 });
      // 500 ms: a loaded CI machine must still read it back before it expires.
      await cache.set('short', 1, { ttl: 500 });
      await cache.set('long', 2);
      assert.equal(await cache.get('short'), 1);
      await sleep(650);
      assert.equal(await cache.get('short'), null);
      assert.equal(await cache.get('long'), 2);
    });

    test('getOrSet takes sync and async loaders, and loads once per key', async () => {
      const cache = (await client('loaders')).cache('loaders');
      let calls = 0;
      const viaSync = await cache.getOrSet('sync', () => {
        calls += 1;
        return { via: 'sync' };
      });
      assert.deepEqual(viaSync, { via: 'sync' });
      const viaAsync = await cache.getOrSet('async', async () => {
        calls += 1;
        await sleep(5);
        return 'async';
      });
      assert.equal(viaAsync, 'async');
      assert.deepEqual(await cache.getOrSet('sync', () => 'other'), { via: 'sync' });
      assert.equal(calls, 2);
      assert.equal(await cache.getOrSet('seven', () => 7), 7);
    });

    test('concurrent misses on one key share one load (stampede protection)', async () => {
      const cache = (await client('stampede')).cache('stampede', { ttl: 60_000 });
      let calls = 0;
      const loader = async () => {
        calls += 1;
        await sleep(50);
        return { n: calls };
      };
      const results = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('hot', loader)));
      assert.equal(calls, 1);
      for (const r of results) assert.deepEqual(r, { n: 1 });
      assert.deepEqual(await cache.getOrSet('hot', loader), { n: 1 });
      assert.equal(calls, 1);
    });

    test('the lock gives one loader per key across clients (as across processes)', async () => {
      const shared = prefix('lock');
      const a = await client('lock', shared);
      const b = await client('lock', shared);
      let calls = 0;
      const loader = async () => {
        calls += 1;
        await sleep(100);
        return 'once';
      };
      const results = await Promise.all([
        a.cache('users', { ttl: 60_000 }).getOrSet('k', loader),
        b.cache('users', { ttl: 60_000 }).getOrSet('k', loader),
        b.cache('users', { ttl: 60_000 }).getOrSet('k', loader),
      ]);
      assert.deepEqual(results, ['once', 'once', 'once']);
      assert.equal(calls, 1);
    });

    test('a loader that throws reaches the caller as thrown, and nothing is stored', async () => {
      const cache = (await client('throws')).cache('throws');
      class DbError extends Error {}
      const thrown = new DbError('database is down');
      await assert.rejects(
        cache.getOrSet('k', async () => {
          throw thrown;
        }),
        (err) => err === thrown && err instanceof DbError && err.message === 'database is down',
      );
      await assert.rejects(
        cache.getOrSet('k', () => {
          throw new RangeError('sync throw');
        }),
        { name: 'RangeError', message: 'sync throw' },
      );
      assert.equal(await cache.get('k'), null);
      assert.equal(await cache.getOrSet('k', () => 'recovered'), 'recovered');
    });

    test('concurrent callers sharing a failed load all get the error', async () => {
      const cache = (await client('sharedfail')).cache('shared-fail');
      const loader = async () => {
        await sleep(30);
        throw new Error('shared failure');
      };
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => cache.getOrSet('k', loader)));
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.equal(r.reason.message, 'shared failure');
      }
    });

    test('set and getOrSet tags and a per-write ttl; invalidateTags; delete counts', async () => {
      const cache = (await client('tags')).cache('tags', { ttl: 60_000 });
      await cache.set('a', 1, { tags: ['team:7'] });
      assert.equal(await cache.getOrSet('b', () => 2, { tags: ['team:7', 'org:1'] }), 2);
      await cache.set('c', 3, { tags: ['org:1'] });
      await cache.set('e', 5, { tags: ['team:7', 'org:1'] });
      await cache.set('short', 'x', { ttl: 40 });
      assert.equal(await cache.invalidateTags(['team:7']), 3);
      assert.equal(await cache.get('a'), null);
      assert.equal(await cache.get('b'), null);
      assert.equal(await cache.get('e'), null);
      assert.equal(await cache.get('c'), 3);
      assert.equal(await cache.delete('c', 'zzz'), 1);
      assert.equal(await cache.delete(), 0);
      assert.equal(await cache.invalidateTags([]), 0);
      await sleep(100);
      assert.equal(await cache.get('short'), null);
    });

    test('namespaces are separate, and clients with different prefixes too', async () => {
      const c = await client('ns');
      await c.cache('a').set('k', 'in a');
      assert.equal(await c.cache('b').get('k'), null);
      const other = await client('nsother');
      assert.equal(await other.cache('a').get('k'), null);
    });

    test('wrap memoizes by the JSON of the arguments or by a key option', async () => {
      const cache = (await client('wrap')).cache('wrap');
      let calls = 0;
      async function findUser(id, opts) {
        calls += 1;
        return { id, verbose: Boolean(opts && opts.verbose) };
      }
      const cached = cache.wrap(findUser, { ttl: 60_000 });
      assert.deepEqual(await cached(1), { id: 1, verbose: false });
      assert.deepEqual(await cached(1), { id: 1, verbose: false });
      assert.deepEqual(await cached(2), { id: 2, verbose: false });
      assert.deepEqual(await cached(1, { verbose: true }), { id: 1, verbose: true });
      assert.equal(calls, 3);
      const byKey = cache.wrap((id) => ({ id, calls: ++calls }), { key: (id) => `user:${id}`, tags: ['users'] });
      assert.deepEqual(await byKey(5), { id: 5, calls: 4 });
      assert.deepEqual(await cache.get('user:5'), { id: 5, calls: 4 });
      assert.equal(await cache.invalidateTags(['users']), 1);
      assert.deepEqual(await byKey(5), { id: 5, calls: 5 });
      const keyed = cache.wrap((x) => x * 2, { key: (x) => `double:${x}` });
      assert.equal(await keyed(21), 42);
      assert.equal(await cache.get('double:21'), 42);
      const prefixed = cache.wrap(() => 'p', { key: 'constant' });
      assert.equal(await prefixed(), 'p');
      assert.equal(await cache.get('constant:[]'), 'p');
    });

    test('wrap: key and tag templates, trailing undefineds, and the receiver kept', async () => {
      const cache = (await client('wrap-tpl')).cache('wrap');
      const calls = [];
      const user = cache.wrap(
        (id, team = 1) => {
          calls.push(id);
          return { id, team };
        },
        { key: 'user:{0}', tags: ['team:{1}', 'users', '{{literal}}'] },
      );
      assert.deepEqual(await user(42, 7), { id: 42, team: 7 });
      assert.deepEqual(await user(42, 7), { id: 42, team: 7 });
      assert.deepEqual(calls, [42]);
      assert.deepEqual(await cache.get('user:42'), { id: 42, team: 7 });
      assert.equal(await cache.invalidateTags(['team:7']), 1);
      assert.equal(await cache.get('user:42'), null);
      await assert.rejects(user(5), InvalidArgument); // {1} is undefined in this call
      assert.equal(calls.length, 1); // ...and the function did not run

      const byName = cache.wrap(({ teamId }) => ({ teamId }), { key: 'team:{teamId}', tags: ['t:{teamId}'] });
      assert.deepEqual(await byName({ teamId: 3 }), { teamId: 3 });
      assert.deepEqual(await cache.get('team:3'), { teamId: 3 });
      assert.equal(await cache.invalidateTags(['t:3']), 1);

      // f(7) and f(7, undefined) are one entry.
      let runs = 0;
      const count = cache.wrap(function counted(n, _opt) {
        runs++;
        return n;
      });
      assert.equal(await count(7), 7);
      assert.equal(await count(7, undefined), 7);
      assert.equal(runs, 1);

      // A wrapped method keeps its object, and `this` reaches the key function and templates.
      class Repo {
        constructor(name) {
          this.name = name;
        }
      }
      Repo.prototype.find = cache.wrap(
        async function find(id) {
          return `${this.name}:${id}`;
        },
        { key: 'repo:{this.name}:{0}' },
      );
      Repo.prototype.other = cache.wrap(
        function other(id) {
          return `${this.name}/${id}`;
        },
        {
          key(id) {
            return `other:${this.name}:${id}`;
          },
        },
      );
      const a = new Repo('a');
      assert.equal(await a.find(1), 'a:1');
      assert.equal(await new Repo('b').find(1), 'b:1');
      assert.equal(await cache.get('repo:a:1'), 'a:1');
      assert.equal(await a.other(2), 'a/2');
      assert.equal(await cache.get('other:a:2'), 'a/2');
      // A bound function's default prefix is its function's name.
      const bound = cache.wrap(function named() {
        return this.name;
      }.bind(a));
      assert.equal(await bound(), 'a');
      assert.equal(await cache.get('named:[]'), 'a');

      for (const bad of ['user:{', 'user:}', 'user:{}', 'user:{a b}']) {
        assert.throws(() => cache.wrap((x) => x, { key: bad }), InvalidArgument, bad);
        assert.throws(() => cache.wrap((x) => x, { key: 'k', tags: [bad] }), InvalidArgument, bad);
      }
    });

    test('bad input is a typed error, never a crash', async () => {
      const c = await client('bad');
      const cache = c.cache('c');
      await assert.rejects(cache.get(''), InvalidArgument);
      await assert.rejects(cache.get(42), InvalidArgument);
      await assert.rejects(cache.set('k', 1, { ttl: 0 }), InvalidArgument);
      await assert.rejects(cache.set('k', 1, { ttl: -5 }), InvalidArgument);
      await assert.rejects(cache.set('k', 1, { tags: [''] }), InvalidArgument);
      await assert.rejects(cache.set('k', 1, { tags: 'x' }), InvalidArgument);
      await assert.rejects(cache.set('k', undefined), EncodeError);
      await assert.rejects(cache.set('k', 10n), EncodeError);
      await assert.rejects(cache.delete(''), InvalidArgument);
      await assert.rejects(cache.invalidateTags(['']), InvalidArgument);
      await assert.rejects(cache.getOrSet('k', 'not a function'), InvalidArgument);
      await assert.rejects(cache.getOrSet('k', () => undefined), EncodeError);
      assert.throws(() => c.cache('bad{name}'), InvalidArgument);
      assert.throws(() => c.cache(''), InvalidArgument);
      assert.throws(() => c.cache('c', { ttl: 0 }), InvalidArgument);
      assert.throws(() => c.cache('c', { ttl: '1000' }), InvalidArgument);
      assert.throws(() => c.cache('c', { codec: 'pickle' }), InvalidArgument);
      const err = await cache.get('').catch((e) => e);
      assert.ok(err instanceof RedkitError && err instanceof Error);
      assert.equal(err.code, 'ERR_INVALID_ARGUMENT');
      assert.equal(err.name, 'InvalidArgument');
      // Still serving.
      await cache.set('k', 'fine');
      assert.equal(await cache.get('k'), 'fine');
    });

    test('a value that is not JSON reads as a DecodeError', async () => {
      const p = prefix('decode');
      const cache = (await client('decode', p)).cache('c', { ttl: 60_000 });
      await command('SET', `${p}:{cache:c}:k:k`, `v1:${Date.now() + 60_000}:1:not json`);
      await assert.rejects(cache.get('k'), DecodeError);
    });

    test('keys of any length and alphabet are stored under their UTF-8 bytes', async () => {
      const p = prefix('keys');
      const cache = (await client('keys', p)).cache('keys');
      // Every length around the 256-byte buffer the addon reads keys into in one call
      // (bindings-node/src/functions.rs), in one-, two- and four-byte characters, and a NUL.
      const keys = ['a', 'é', '🙂', 'a\0b', 'x'.repeat(5000)];
      for (let bytes = 248; bytes <= 257; bytes++) {
        keys.push('k'.repeat(bytes), 'é'.repeat(bytes >> 1) + 'k'.repeat(bytes & 1), '🙂'.repeat(bytes >> 2) + 'k'.repeat(bytes & 3));
      }
      for (const [i, key] of keys.entries()) {
        await cache.set(key, i);
        assert.equal(await command('EXISTS', `${p}:{cache:keys}:k:${key}`), 1, `key of ${Buffer.byteLength(key)} bytes`);
        assert.equal(await cache.get(key), i);
        assert.equal(await cache.getOrSet(key, () => assert.fail('a hit')), i);
      }
      assert.equal(await cache.delete(...keys), keys.length);
    });

    test('staleTtl serves the stale value when the loader fails', async () => {
      const cache = (await client('stale')).cache('stale', { ttl: 60_000, staleTtl: 30_000, earlyRefresh: 0 });
      await cache.set('k', 'old', { ttl: 30 });
      await sleep(80);
      assert.equal(await cache.get('k'), null, 'stale entries read as a miss');
      const v = await cache.getOrSet('k', () => {
        throw new Error('database is down');
      });
      assert.equal(v, 'old');
    });

    test('close makes later calls fail with Closed', async () => {
      const c = await client('closed');
      const cache = c.cache('c');
      await cache.set('k', 1);
      await c.close();
      await assert.rejects(cache.get('k'), Closed);
      await assert.rejects(cache.set('k', 2), Closed);
      await assert.rejects(cache.getOrSet('x', () => 1), Closed);
      await assert.rejects(c.ping(), { name: 'Closed', code: 'ERR_CLOSED' });
    });
  });
}
