// Runs the edge function's fetch handler with real Request objects against redkit-gateway
// in front of a real redis-server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caller, useServers } from './servers.test-helper.mjs';
import { db } from './db.js';
import worker from './worker.js';

const state = useServers();

const call = caller(worker, state);

test('cache-aside: a stampede of requests reads the database once', async () => {
  const before = db.reads;
  const responses = await Promise.all(Array.from({ length: 20 }, () => call('GET', '/users/42')));
  for (const r of responses) {
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { id: '42', name: 'Ada Lovelace', team: '7' });
  }
  assert.equal(db.reads - before, 1);
  const again = await call('GET', '/users/42');
  assert.equal(again.status, 200);
  assert.equal(db.reads - before, 1);
  // Stored in the shared layout, with the jittered ttl (60-65 minutes).
  const ttl = await state.servers.redis.pttl('rk:{cache:users}:k:user:42');
  assert.ok(ttl > 3_590_000 && ttl <= 3_900_000 + 60_000, `pttl ${ttl}`);
});

test('delete on write: the next read sees the update', async () => {
  await call('GET', '/users/43');
  const put = await call('PUT', '/users/43', { name: 'Rear Admiral Grace Hopper' });
  assert.equal(put.status, 200);
  const got = await (await call('GET', '/users/43')).json();
  assert.equal(got.name, 'Rear Admiral Grace Hopper');
});

test('tag invalidation drops every cached user', async () => {
  await call('GET', '/users/42');
  await call('GET', '/users/43');
  const before = db.reads;
  const res = await (await call('POST', '/users/refresh')).json();
  assert.equal(res.dropped, 2);
  await call('GET', '/users/42');
  assert.equal(db.reads - before, 1);
});

test('missing users are 404 (and the null is cached like any value)', async () => {
  const r = await call('GET', '/users/999');
  assert.equal(r.status, 404);
});

test('a Redis endpoint failure is a clean 500 with the error code', async () => {
  const bad = { UPSTASH_REDIS_REST_URL: state.servers.url, UPSTASH_REDIS_REST_TOKEN: 'wrong' };
  const { default: fresh } = await import(`./worker.js?fresh=${Date.now()}`);
  const r = await fresh.fetch(new Request('https://edge.example/users/42'), bad);
  assert.equal(r.status, 500);
  assert.equal((await r.json()).code, 'ERR_CONNECTION');
});
