// The cache's edge specifics over both edge transports (REST through redkit-gateway, and
// the adapter over ioredis, each against a real redis-server): the transport's name, the
// msgpack codec refused, binary values, panics, REST's own failures and the adapter's
// shapes. The rest of the cache's behaviour is tested once for both JS packages in
// js/test/cache.test.mjs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client, InvalidArgument, RedkitError, ConnectionError,
} from 'redkit-wasm';
// Test hooks: the package's own module, not its public entry (they are not exported).
import { debugPanic } from '../js/debug.js';
import { createClient } from 'redis';
import { prefix, startServers } from './harness.mjs';

let servers;
before(async () => {
  servers = await startServers();
});
after(async () => {
  await servers?.stop();
});

for (const transport of ['rest', 'adapter']) {
  describe(`cache over ${transport}`, () => {
    const client = (name) => servers.transports[transport](prefix(name));

    test('the client reports its transport', () => {
      assert.equal(client('transport').transport, transport);
    });

    test('the msgpack codec is Node only: refused here', () => {
      assert.throws(() => client('msgpack').cache('c', { codec: 'msgpack' }), InvalidArgument);
    });

    test('the bytes codec round-trips binary values', async () => {
      const cache = client('bytes').cache('b', { codec: 'bytes' });
      const utf8 = new TextEncoder().encode('héllo ✓');
      await cache.set('u', utf8);
      assert.deepEqual(await cache.get('u'), utf8);
      const binary = new Uint8Array([0, 255, 1, 254, 0x80, 0xc3]);
      if (transport === 'adapter') {
        await cache.set('bin', binary);
        assert.deepEqual(await cache.get('bin'), binary);
      } else {
        // REST sends arguments as JSON strings: non-UTF-8 bytes cannot travel.
        await assert.rejects(cache.set('bin', binary), InvalidArgument);
      }
    });

    test('a panic is an error and the module keeps working', async () => {
      const c = client('panic');
      const cache = c.cache('c');
      await cache.set('k', 'before');
      const pending = cache.getOrSet('slow', () => new Promise((r) => setTimeout(() => r('late'), 50)));
      await assert.rejects(debugPanic(true), (e) => e instanceof RedkitError && e.code === 'ERR_PANIC' && /deliberate panic/.test(e.message));
      // What was in flight in the dead instance is rejected, not left hanging.
      await assert.rejects(pending, (e) => e.code === 'ERR_PANIC');
      await assert.rejects(debugPanic(false), (e) => e.code === 'ERR_PANIC');
      // Existing objects keep working on the fresh instance.
      assert.equal(await cache.get('k'), 'before');
      assert.equal(await cache.getOrSet('after', () => 'ok'), 'ok');
      await c.ping();
    });

    test('a panic while another caller waits on the Redis lock leaves no stray timer', async () => {
      const p = prefix('panicwait');
      const holder = servers.transports[transport](p).cache('c', { lockTimeout: 2_000 });
      const waiter = servers.transports[transport](p).cache('c', { lockTimeout: 2_000 });
      const slow = holder.getOrSet('k', () => new Promise((r) => setTimeout(() => r('slow'), 300)));
      await new Promise((r) => setTimeout(r, 30));
      const waiting = waiter.getOrSet('k', () => 'waiter');
      await new Promise((r) => setTimeout(r, 30));
      await assert.rejects(debugPanic(true), (e) => e.code === 'ERR_PANIC');
      await assert.rejects(slow, (e) => e.code === 'ERR_PANIC');
      await assert.rejects(waiting, (e) => e.code === 'ERR_PANIC');
      // Let the dead instance's timers and the slow loader's promise come due: an uncaught
      // exception from them would end this process and fail the run.
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await waiter.getOrSet('other', () => 'fine'), 'fine');
    });
  });
}

describe('REST transport specifics', () => {
  test('a wrong token is a ConnectionError, without retries', async () => {
    const c = Client.rest({ url: servers.url, token: 'wrong', prefix: prefix('tok') });
    const started = Date.now();
    await assert.rejects(c.ping(), (e) => e instanceof ConnectionError && /refused the token \(401\)/.test(e.message));
    assert.ok(Date.now() - started < 1000);
  });

  test('an unreachable endpoint is retried with backoff, then a ConnectionError', async () => {
    const { freePort } = await import('./harness.mjs');
    const port = await freePort();
    const c = Client.rest({ url: `http://127.0.0.1:${port}`, token: 't', retries: 2, retryBackoffMax: 100 });
    const started = Date.now();
    // It names the endpoint and why (fetch's own message is only "fetch failed").
    await assert.rejects(c.ping(), (e) =>
      e instanceof ConnectionError && e.message.includes(`REST request to http://127.0.0.1:${port} failed`) && e.message.includes('ECONNREFUSED'));
    const took = Date.now() - started;
    // Two pauses: 25-50 ms then 50-100 ms.
    assert.ok(took >= 70, `retried for ${took} ms`);
  });

  test('a server that never answers is a TimeoutError within the timeout', async () => {
    const net = await import('node:net');
    const sockets = [];
    const hang = net.createServer((s) => sockets.push(s));
    await new Promise((r) => hang.listen(0, '127.0.0.1', r));
    try {
      const c = Client.rest({ url: `http://127.0.0.1:${hang.address().port}`, timeout: 200 });
      const started = Date.now();
      await assert.rejects(c.ping(), (e) => e.name === 'TimeoutError' && e.code === 'ERR_TIMEOUT');
      const took = Date.now() - started;
      assert.ok(took >= 190 && took < 2000, `timed out after ${took} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      hang.close();
    }
  });

  test('bad options are InvalidArgument at construction', () => {
    assert.throws(() => Client.rest({ url: 'redis://x' }), InvalidArgument);
    assert.throws(() => Client.rest({}), InvalidArgument);
    assert.throws(() => Client.rest({ url: servers.url, timeout: 0 }), InvalidArgument);
    assert.throws(() => Client.rest({ url: servers.url, retries: -1 }), InvalidArgument);
    assert.throws(() => Client.rest({ url: servers.url, prefix: 'a{b}' }), InvalidArgument);
    assert.throws(() => Client.adapter({}), InvalidArgument);
  });

  test('binary values written by another client read back exactly (base64 replies)', async () => {
    const p = prefix('b64');
    const writer = Client.adapter(servers.redis, { prefix: p }).cache('b', { codec: 'bytes' });
    const reader = servers.transports.rest(p).cache('b', { codec: 'bytes' });
    const binary = new Uint8Array(256).map((_, i) => i);
    await writer.set('all-bytes', binary);
    assert.deepEqual(await reader.get('all-bytes'), binary);
  });

  test('scripts load on first use (EVALSHA, then EVAL on NOSCRIPT)', async () => {
    await servers.redis.script('FLUSH');
    const cache = servers.transports.rest(prefix('script')).cache('c');
    await cache.set('k', 'v', { tags: ['t'] });
    assert.equal(await cache.invalidateTags(['t']), 1);
  });
});

describe('adapter shapes', () => {
  test('a plain sendCommand function works', async () => {
    const calls = [];
    const send = (args) => {
      calls.push(String(args[0]));
      return servers.redis.callBuffer(String(args[0]), ...args.slice(1));
    };
    const cache = Client.adapter(send, { prefix: prefix('fn') }).cache('c');
    assert.equal(await cache.getOrSet('k', () => 'v'), 'v');
    assert.equal(await cache.get('k'), 'v');
    assert.ok(calls.includes('GET'));
  });

  test('a node-redis client works through its sendCommand', async () => {
    const nodeRedis = createClient({ url: `redis://127.0.0.1:${servers.redisPort}` });
    await nodeRedis.connect();
    try {
      await nodeRedis.sendCommand(['SCRIPT', 'FLUSH']);
      const c = Client.adapter(nodeRedis, { prefix: prefix('noderedis') });
      await c.ping();
      const cache = c.cache('c', { ttl: 60_000 });
      assert.deepEqual(await cache.getOrSet('k', () => ({ a: [1, 'two'] }), { tags: ['t'] }), { a: [1, 'two'] });
      assert.deepEqual(await cache.get('k'), { a: [1, 'two'] });
      assert.equal(await cache.invalidateTags(['t']), 1);
      await cache.set('x', 'ünïcødé ✓');
      assert.equal(await cache.get('x'), 'ünïcødé ✓');
      assert.equal(await cache.delete('x', 'nope'), 1);
    } finally {
      await nodeRedis.quit();
    }
  });

  test('replies map faithfully: BigInt integers, strings, Uint8Array, null', async () => {
    const replies = { DEL: 2n, GET: null };
    const cache = Client.adapter(async (args) => replies[String(args[0])]).cache('c');
    assert.equal(await cache.delete('a', 'b'), 2);
    assert.equal(await cache.get('a'), null);
    const entry = new TextEncoder().encode(`v1:${Date.now() + 60_000}:1:"hi"`);
    replies.GET = entry;
    assert.equal(await cache.get('a'), 'hi');
    replies.GET = `v1:${Date.now() + 60_000}:1:"str"`;
    assert.equal(await cache.get('a'), 'str');
  });

  test('a client whose connection fails gives ConnectionError', async () => {
    const cache = Client.adapter(() => Promise.reject(new Error('Connection is closed.'))).cache('c');
    await assert.rejects(cache.get('k'), ConnectionError);
  });
});
