// When Redis is down or slow, in both JS packages: a failSafe cache answers (the loader's
// value, unstored; `get` a miss), a rate limiter's insurance decides with the same limits,
// the circuit breaker makes a dead Redis cost one timeout, not one per call, and each
// decision made on error is counted and reported through `client.onIncident` (no console
// output). Real failures: each test starts its own backend (Node: a redis-server; edge: a
// redis-server and the REST gateway) and stops it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { prefix, serverTransports, startBackend } from './harness.mjs';

const SOFT = 200;

for (const transport of serverTransports) {
  describe(`with Redis down (${transport})`, () => {
    test('a failSafe cache and an insured limiter answer for about one timeout, and report once', async () => {
      const backend = await startBackend();
      const client = await backend.transports[transport].make(prefix('failsafe'));
      const incidents = [];
      client.onIncident((i) => incidents.push(i));
      assert.throws(() => client.onIncident('nope'), { name: 'InvalidArgument' });
      const users = client.cache('users', { failSafe: true, softTimeout: SOFT, circuitBreaker: 30_000 });
      const api = client.rateLimiter('api', { limit: 2, window: 60_000, insurance: true, timeout: SOFT, circuitBreaker: 30_000 });
      await users.set('kept', 'v0');
      assert.equal((await api.limit('first')).reason, 'limit');
      await backend.stop();

      let started = Date.now();
      for (let i = 0; i < 10; i++) {
        assert.equal(await users.getOrSet(`k${i}`, () => `db${i}`), `db${i}`);
      }
      assert.equal(await users.get('kept'), null, 'a miss, not an error');
      assert.equal(users.stats().errors, 11);
      let elapsed = Date.now() - started;
      assert.ok(elapsed < SOFT * 3, `11 cache calls took ${elapsed} ms: more than one soft timeout`);
      await assert.rejects(
        users.getOrSet('x', () => {
          throw new Error('db down');
        }),
        /db down/,
      );

      started = Date.now();
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await api.limit('u'));
      elapsed = Date.now() - started;
      assert.deepEqual(results.map((r) => [r.allowed, r.reason]), [[true, 'insurance'], [true, 'insurance'], [false, 'insurance']]);
      assert.ok(results[2].retryAfterMs > 0 && results[2].error instanceof Error);
      assert.ok(elapsed < SOFT * 2, `3 decisions took ${elapsed} ms: more than one timeout`);
      assert.equal(api.errors(), 3);

      // Reports are asynchronous: one per cache or limiter per interval.
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(
        incidents.map((i) => [i.pattern, i.name, i.fallback]),
        [['cache', 'users', 'loader'], ['rate_limiter', 'api', 'insurance']],
      );
      assert.match(incidents[0].message, /cache "users"/);
      assert.ok(incidents[0].error.name.length > 0 && incidents[0].count === 1);
      client.onIncident(null);
      await client.close().catch(() => {});
    });

    test('onError allow fails open fast under the breaker, and the numbers it would need are not made up', async () => {
      const backend = await startBackend();
      const client = await backend.transports[transport].make(prefix('failopen'));
      const api = client.rateLimiter('open', { limit: 2, window: 60_000, onError: 'allow', timeout: SOFT, circuitBreaker: 30_000 });
      await backend.stop();
      const started = Date.now();
      for (let i = 0; i < 10; i++) {
        const r = await api.limit('u');
        assert.deepEqual([r.allowed, r.reason, r.remaining], [true, 'error', 0]);
      }
      const elapsed = Date.now() - started;
      assert.ok(elapsed < SOFT * 2, `10 decisions took ${elapsed} ms`);
      assert.equal(api.errors(), 10);
      await client.close().catch(() => {});
    });
  });
}
