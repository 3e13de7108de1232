// Runs the enqueueing edge function with real Request objects against redkit-gateway in
// front of a real redis-server, and reads the job as a worker in any runtime would.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caller, useServers } from './servers.test-helper.mjs';
import app from './enqueue.js';

const state = useServers();

const call = caller(app, state);

test('a signup enqueues one welcome email with the seed options, once per address', async () => {
  const first = await call('POST', '/signup', { email: 'ada@example.com' });
  assert.equal(first.status, 202);
  assert.deepEqual(await first.json(), { jobId: 'welcome:ada@example.com' });
  const again = await call('POST', '/signup', { email: 'ada@example.com' });
  assert.deepEqual(await again.json(), { jobId: 'welcome:ada@example.com' });
  const stats = await (await call('GET', '/emails/stats')).json();
  assert.equal(stats.waiting, 1);

  // The job hash in the shared layout, as a Rust, Python or Node worker reads it.
  const hash = await state.servers.redis.hgetall('rk:{queue:emails}:j:welcome:ada@example.com');
  assert.deepEqual(JSON.parse(hash.data), { to: 'ada@example.com' });
  assert.equal(hash.name, 'welcome');
  const opts = JSON.parse(hash.opts);
  assert.equal(opts.attempts, 3);
  assert.deepEqual(opts.backoff, { type: 'exponential', delay: 1000 });
  assert.deepEqual(opts.remove_on_complete, { age: 86_400 });
  assert.deepEqual(opts.remove_on_fail, { age: 604_800 });
});

test('a bad body is a 400 and enqueues nothing', async () => {
  const before = (await (await call('GET', '/emails/stats')).json()).waiting;
  assert.equal((await call('POST', '/signup', { name: 'no email' })).status, 400);
  assert.equal((await call('POST', '/signup')).status, 400);
  assert.equal((await (await call('GET', '/emails/stats')).json()).waiting, before);
});
