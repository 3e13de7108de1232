// The rate limiter's edge specifics, against a real redis-server: REST and the adapter
// sharing one limit, a panic restarting the module, onError when Redis or the gateway is
// down or slow, and the HTTP glue. The rest of the limiter's behaviour is tested once for
// both JS packages in js/test/ratelimit.test.mjs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client, ConnectionError, InvalidArgument, RedkitError, TimeoutError, rateLimitAnswer, withRateLimit,
} from 'redkit-wasm';
import { debugPanic } from '../js/debug.js';
import { TOKEN, freePort, prefix, startServers } from './harness.mjs';

let servers;
before(async () => {
  servers = await startServers();
});
after(async () => {
  await servers?.stop();
});

test('REST and the adapter share one limit (same keys, same scripts)', async () => {
  const p = prefix('shared');
  const opts = { algorithm: 'token_bucket', limit: 4, window: 60_000 };
  const rest = servers.transports.rest(p).rateLimiter('api', opts);
  const adapter = servers.transports.adapter(p).rateLimiter('api', opts);
  assert.equal((await rest.limit('u', { cost: 3 })).remaining, 1);
  assert.equal((await adapter.limit('u')).remaining, 0);
  assert.equal((await rest.limit('u')).allowed, false);
  await adapter.reset('u');
  assert.equal((await rest.peek('u')).remaining, 4);
});

test('a limiter keeps working after a panic restarted the module; its state is in Redis', async () => {
  const api = servers.transports.rest(prefix('panic')).rateLimiter('api', { algorithm: 'sliding_log', limit: 2, window: 60_000 });
  assert.equal((await api.limit('u')).remaining, 1);
  await assert.rejects(debugPanic(true), (e) => e instanceof RedkitError && e.code === 'ERR_PANIC');
  assert.equal((await api.limit('u')).remaining, 0);
  assert.equal((await api.limit('u')).allowed, false);
});

describe('onError when Redis or the gateway fails', () => {
  const TIMEOUT = 300;
  // Time allowed past the timeout for the decision to come back (timers, a loaded machine).
  const SLACK = 700;

  async function timed(fn) {
    const started = Date.now();
    const value = await fn();
    return { value, took: Date.now() - started };
  }

  function assertCovered(r, allowed, took, ErrorClass) {
    assert.equal(r.allowed, allowed);
    assert.equal(r.reason, 'error');
    assert.equal(r.remaining, 0);
    assert.equal(r.retryAfterMs, 0);
    assert.ok(r.error instanceof ErrorClass, `covered error: ${r.error?.name}: ${r.error?.message}`);
    assert.ok(took < TIMEOUT + SLACK, `decided after ${took} ms`);
  }

  test('gateway unreachable: allow or deny with reason error, or raise, within the timeout', async () => {
    const port = await freePort();
    const client = Client.rest({ url: `http://127.0.0.1:${port}`, token: TOKEN, prefix: prefix('down') });
    const opts = { limit: 5, window: 1_000, timeout: TIMEOUT };
    const allow = await timed(() => client.rateLimiter('api', { ...opts, onError: 'allow' }).limit('u'));
    // The REST transport keeps retrying with backoff; the limiter's timeout cuts it short.
    assertCovered(allow.value, true, allow.took, RedkitError);
    assert.ok(allow.value.error instanceof ConnectionError || allow.value.error instanceof TimeoutError);
    const deny = await timed(() => client.rateLimiter('api', { ...opts, onError: 'deny' }).limit('u'));
    assertCovered(deny.value, false, deny.took, RedkitError);
    const started = Date.now();
    await assert.rejects(client.rateLimiter('api', { ...opts, onError: 'raise' }).limit('u'), RedkitError);
    assert.ok(Date.now() - started < TIMEOUT + SLACK);
    // Bad input stays an error whatever onError says.
    await assert.rejects(client.rateLimiter('api', { ...opts, onError: 'allow' }).limit('u', { cost: 0 }), InvalidArgument);
  });

  test('a paused (slow) Redis and then a dead one, over both transports', async () => {
    // Own servers: pausing and shutting down Redis must not disturb the other tests.
    const own = await startServers();
    try {
      // No circuit breaker: every call here must ask Redis (fail-safe.test.mjs covers the breaker).
      const opts = { limit: 5, window: 1_000, timeout: TIMEOUT, onError: 'allow', circuitBreaker: 0 };
      const limiters = {
        rest: own.transports.rest(prefix('slow')).rateLimiter('api', opts),
        adapter: own.transports.adapter(prefix('slow')).rateLimiter('api', opts),
      };
      for (const l of Object.values(limiters)) assert.equal((await l.limit('u')).reason, 'limit');

      const pauser = own.redis.duplicate();
      await pauser.call('CLIENT', 'PAUSE', String(TIMEOUT * 4), 'ALL');
      for (const [name, l] of Object.entries(limiters)) {
        const { value, took } = await timed(() => l.limit('u'));
        assertCovered(value, true, took, TimeoutError);
        assert.ok(took >= TIMEOUT - 20, `${name}: gave up after ${took} ms`);
      }
      await pauser.call('CLIENT', 'UNPAUSE');
      pauser.disconnect();
      // The circuit breaker skips Redis for its interval (1 s by default) after a failure.
      await new Promise((r) => setTimeout(r, 1_100));
      for (const l of Object.values(limiters)) assert.equal((await l.limit('u')).reason, 'limit');

      own.redis.on('error', () => {}); // ioredis reports each failed reconnect; expected here
      await own.redis.call('SHUTDOWN', 'NOSAVE').catch(() => {});
      for (const [name, l] of Object.entries(limiters)) {
        const { value, took } = await timed(() => l.limit('u'));
        assertCovered(value, true, took, RedkitError);
        assert.ok(value.error.code !== 'ERR_INVALID_ARGUMENT', name);
      }
    } finally {
      await own.stop();
    }
  });
});

describe('edge glue: the HTTP meaning of a decision is the core\'s', () => {
  test('withRateLimit: RateLimit-* headers, then 429 with Retry-After and the shared JSON body', async () => {
    const limiter = servers.transports.adapter(prefix('glue')).rateLimiter('api', { algorithm: 'sliding_log', limit: 1, window: 60_000 });
    const handler = withRateLimit(limiter, () => new Response('hello'), { key: (req) => req.headers.get('x-user') });
    const ask = (user) => handler(new Request('http://edge/', { headers: user ? { 'x-user': user } : {} }));
    const first = await ask('ada');
    assert.equal(first.status, 200);
    assert.equal(await first.text(), 'hello');
    assert.equal(first.headers.get('ratelimit-limit'), '1');
    assert.equal(first.headers.get('ratelimit-remaining'), '0');
    const denied = await ask('ada');
    assert.equal(denied.status, 429);
    assert.ok(Number(denied.headers.get('retry-after')) >= 1);
    const body = await denied.json();
    assert.deepEqual(Object.keys(body), ['error', 'reason', 'limit', 'remaining', 'retry_after_ms']);
    assert.equal(body.error, 'rate_limited');
    // No identifier: not limited.
    for (let i = 0; i < 3; i++) assert.equal((await ask(null)).status, 200);
  });

  test('withRateLimit per route: each handler its own limiter, RateLimit-Policy, 403 for the deny list', async () => {
    const c = servers.transports.adapter(prefix('routes'));
    const login = withRateLimit(c.rateLimiter('login', { rate: '1/minute', denyList: ['bad'] }), () => new Response('in'), {
      key: (req) => req.headers.get('x-user'),
    });
    const home = withRateLimit(c.rateLimiter('home', { rate: '100/minute;1000/day' }), () => new Response('home'), {
      key: (req) => req.headers.get('x-user'),
    });
    const ask = (h, user) => h(new Request('http://edge/', { headers: { 'x-user': user } }));
    const first = await ask(login, 'ada');
    assert.equal(first.headers.get('ratelimit-policy'), '1;w=60');
    const denied = await ask(login, 'ada');
    assert.equal(denied.status, 429);
    assert.equal(denied.headers.get('ratelimit-policy'), '1;w=60');
    for (let i = 0; i < 3; i++) {
      const r = await ask(home, 'ada');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('ratelimit-policy'), '100;w=60, 1000;w=86400');
    }
    const banned = await ask(login, 'bad');
    assert.equal(banned.status, 403);
    assert.equal(banned.headers.get('retry-after'), null);
    assert.deepEqual(await banned.json(), { error: 'forbidden', reason: 'deny_list' });
    assert.throws(() => rateLimitAnswer({ allowed: true, reason: 'limit' }, 5), InvalidArgument);
  });

  test('withRateLimit: onDenied builds the refusal from the core\'s answer', async () => {
    const limiter = servers.transports.adapter(prefix('glue-custom')).rateLimiter('api', { algorithm: 'sliding_log', limit: 1, window: 60_000 });
    const handler = withRateLimit(limiter, () => new Response('hello'), {
      key: () => 'one',
      onDenied: (request, result, answer) => new Response(`wait ${result.retryAfterMs > 0}`, { status: answer.status, headers: answer.headers }),
    });
    assert.equal((await handler(new Request('http://edge/'))).status, 200);
    const denied = await handler(new Request('http://edge/'));
    assert.equal(denied.status, 429);
    assert.ok(Number(denied.headers.get('retry-after')) >= 1);
    assert.equal(await denied.text(), 'wait true');
    assert.throws(() => withRateLimit(limiter, () => new Response(''), { onDenied: 1 }), InvalidArgument);
  });

  test('failed open goes on without headers; failed closed is 503 with Retry-After: 1', async () => {
    const open = rateLimitAnswer({ allowed: true, limit: 5, remaining: 0, resetAfterMs: 0, retryAfterMs: 0, reason: 'error' });
    assert.deepEqual(open, { status: 200, headers: [], body: null });
    const closed = rateLimitAnswer({ allowed: false, limit: 5, remaining: 0, resetAfterMs: 0, retryAfterMs: 0, reason: 'error' });
    assert.deepEqual(closed, {
      status: 503, headers: [['Retry-After', '1']], body: '{"error":"rate_limiter_unavailable","reason":"error"}',
    });
    const insured = rateLimitAnswer({ allowed: false, limit: 5, remaining: 0, resetAfterMs: 900, retryAfterMs: 200, reason: 'insurance' });
    assert.equal(insured.status, 429);
    assert.match(insured.body, /"reason":"insurance"/);
    assert.throws(() => rateLimitAnswer({ allowed: true, reason: 'maybe' }), InvalidArgument);
  });
});
