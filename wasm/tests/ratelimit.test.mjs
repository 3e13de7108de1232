// The rate limiter over both edge transports (REST through redkit-gateway, the adapter over
// ioredis), against a real redis-server: result shape, shared state and layout, local_block,
// the client clock, bad input, and on_error when Redis or the gateway is down or slow.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client, ConnectionError, InvalidArgument, RedkitError, TimeoutError, debugPanic, rateLimitAnswer, withRateLimit,
} from 'redkit-wasm';
import { TOKEN, freePort, prefix, startServers } from './harness.mjs';

let servers;
before(async () => {
  servers = await startServers();
});
after(async () => {
  await servers?.stop();
});

const FIELDS = ['allowed', 'limit', 'remaining', 'resetAfterMs', 'retryAfterMs', 'reason'];

for (const transport of ['rest', 'adapter']) {
  describe(`rate limiter over ${transport}`, () => {
    const client = (name) => servers.transports[transport](prefix(name));

    test('limit, peek and reset give the documented result object', async () => {
      const api = client('shape').rateLimiter('api', { limit: 3, window: 60_000 });
      const first = await api.limit('user:42');
      assert.deepEqual(Object.keys(first).sort(), [...FIELDS].sort());
      assert.equal(first.allowed, true);
      assert.equal(first.limit, 3);
      assert.equal(first.remaining, 2);
      assert.equal(first.retryAfterMs, 0);
      assert.equal(first.reason, 'limit');
      // gcra: one emission interval (20 s) per request consumed.
      assert.ok(first.resetAfterMs > 19_000 && first.resetAfterMs <= 20_000, `${first.resetAfterMs}`);
      assert.equal((await api.limit('user:42', { cost: 2 })).remaining, 0);
      const denied = await api.limit('user:42');
      assert.equal(denied.allowed, false);
      assert.ok(denied.retryAfterMs > 19_000 && denied.retryAfterMs <= 20_000, `${denied.retryAfterMs}`);
      const peeked = await api.peek('user:42');
      assert.equal(peeked.allowed, false);
      assert.equal(peeked.remaining, 0);
      assert.equal(await api.reset('user:42'), undefined);
      assert.equal((await api.peek('user:42')).remaining, 3);
    });

    test('several limits are decided together: nothing is consumed unless all allow', async () => {
      const api = client('multi').rateLimiter('api', {
        algorithm: 'fixed_window', limit: 5, window: 60_000, limits: [{ limit: 2, window: 3_600_000 }],
      });
      const t = 1_700_000_000_000;
      assert.equal((await api.limit('u', { nowMs: t })).remaining, 1);
      assert.equal((await api.limit('u', { nowMs: t })).allowed, true);
      const denied = await api.limit('u', { nowMs: t });
      assert.equal(denied.allowed, false);
      assert.equal(denied.limit, 2); // the hourly rule decided
      // The per-minute rule was not charged for the denied request.
      const peek = await api.peek('u', { nowMs: t });
      assert.equal(peek.limit, 2);
      assert.equal(peek.remaining, 0);
    });

    test('the state is in the shared layout, with an expiry', async () => {
      const p = prefix('layout');
      const api = servers.transports[transport](p).rateLimiter('api', { limit: 10, window: 1_000 });
      await api.limit('ip:1');
      const ttl = await servers.redis.pttl(`${p}:{rl:api}:g:ip:1`);
      assert.ok(ttl > 0 && ttl <= 1_000, `pttl ${ttl}`);
    });

    test('the client clock decides when asked', async () => {
      const api = client('clock').rateLimiter('api', { algorithm: 'sliding_log', limit: 1, window: 60_000, clock: 'client' });
      assert.equal((await api.limit('u')).allowed, true);
      const denied = await api.limit('u');
      assert.equal(denied.allowed, false);
      assert.ok(denied.retryAfterMs > 59_000 && denied.retryAfterMs <= 60_000, `${denied.retryAfterMs}`);
    });

    test('bad input is InvalidArgument with its code, never a crash', async () => {
      const c = client('bad');
      const badOptions = [
        { limit: 0 }, { limit: -1 }, { limit: 1.5 }, { limit: '10' }, { limit: Infinity },
        { window: 0 }, { window: -5 }, { window: NaN }, { window: '1 s' }, { window: '7y' },
        { burst: -1 }, { algorithm: 'fixed_window', burst: 1 }, { algorithm: 'leaky_bucket' }, { algorithm: 5 },
        { limits: 'x' }, { limits: [{ limit: 0, window: 1_000 }] }, { limits: [{ window: 1_000 }] }, { limits: [null] },
        { countDenied: 'yes' }, { onError: 'maybe' }, { timeout: 0 }, { localBlock: 1 }, { clock: 'moon' },
      ];
      for (const opts of badOptions) {
        assert.throws(() => c.rateLimiter('api', opts), (e) => e instanceof InvalidArgument && e.code === 'ERR_INVALID_ARGUMENT', JSON.stringify(opts));
      }
      for (const name of ['', 'a{b}', 42, undefined]) {
        assert.throws(() => c.rateLimiter(name), InvalidArgument, String(name));
      }
      assert.throws(() => c.rateLimiter('api', 5), InvalidArgument);

      const api = c.rateLimiter('api', { limit: 10, window: 1_000, burst: 2 });
      const rejected = [
        () => api.limit(''), () => api.limit(42), () => api.limit(),
        () => api.limit('u', { cost: 0 }), () => api.limit('u', { cost: -1 }), () => api.limit('u', { cost: 1.5 }),
        () => api.limit('u', { cost: 13 }), () => api.limit('u', { cost: '1' }), () => api.limit('u', 'x'),
        () => api.limit('u', { nowMs: -1 }), () => api.limit('u', { nowMs: 1.5 }),
        // A clock read in the wrong unit is refused, not decided wrongly (issue 16, item 3).
        () => api.limit('u', { nowMs: 1.8e18 }), () => api.limit('u', { nowMs: 2 ** 62 }),
        () => api.limit('u', { nowMs: 1.765e15 }), () => api.limit('u', { nowMs: 1.765e9 }),
        () => api.peek('u', { nowMs: 1.765e15 }),
        () => api.peek(''), () => api.peek(null), () => api.reset(''), () => api.reset({}),
      ];
      for (const call of rejected) {
        await assert.rejects(call(), (e) => e instanceof InvalidArgument && e.code === 'ERR_INVALID_ARGUMENT', String(call));
      }
      // limit + burst is the most one call can ask for.
      assert.equal((await api.limit('u', { cost: 12 })).allowed, true);
    });

    test('a limiter on a closed client rejects with Closed whatever onError says', async () => {
      const c = client('rlclosed');
      const limiters = ['allow', 'deny', 'raise'].map((onError) => c.rateLimiter(onError, { limit: 3, onError }));
      await c.close();
      for (const l of limiters) {
        await assert.rejects(l.limit('u'), (e) => e.name === 'Closed' && e.code === 'ERR_CLOSED');
        await assert.rejects(l.peek('u'), (e) => e.name === 'Closed' && e.code === 'ERR_CLOSED');
      }
    });
  });
}

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

test('localBlock: a blocked identifier costs no round trip until its retry time', async () => {
  const sent = [];
  const send = (args) => {
    sent.push(String(args[0]));
    return servers.redis.callBuffer(String(args[0]), ...args.slice(1));
  };
  const api = Client.adapter(send, { prefix: prefix('local') })
    .rateLimiter('api', { algorithm: 'fixed_window', limit: 2, window: 60_000, localBlock: true });
  await api.limit('u');
  await api.limit('u');
  const denied = await api.limit('u');
  assert.equal(denied.reason, 'limit');
  assert.equal(denied.allowed, false);
  const before = sent.length;
  const local = await api.limit('u');
  assert.equal(sent.length, before, `sent ${sent.slice(before)}`);
  assert.equal(local.allowed, false);
  assert.equal(local.reason, 'local_block');
  assert.ok(local.retryAfterMs > 0 && local.retryAfterMs <= denied.retryAfterMs);
  // Another identifier still asks Redis.
  assert.equal((await api.limit('v')).reason, 'limit');
  assert.ok(sent.length > before);
  // reset forgets the local entry too.
  await api.reset('u');
  assert.equal((await api.limit('u')).reason, 'limit');
});

test('a limiter keeps working after a panic restarted the module; its state is in Redis', async () => {
  const api = servers.transports.rest(prefix('panic')).rateLimiter('api', { algorithm: 'fixed_window', limit: 2, window: 60_000 });
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
      const opts = { limit: 5, window: 1_000, timeout: TIMEOUT, onError: 'allow' };
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
    const limiter = servers.transports.adapter(prefix('glue')).rateLimiter('api', { algorithm: 'fixed_window', limit: 1, window: 60_000 });
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

  test('failed open goes on without headers; failed closed is 503 with Retry-After: 1', async () => {
    const open = rateLimitAnswer({ allowed: true, limit: 5, remaining: 0, resetAfterMs: 0, retryAfterMs: 0, reason: 'error' });
    assert.deepEqual(open, { status: 200, headers: [], body: null });
    const closed = rateLimitAnswer({ allowed: false, limit: 5, remaining: 0, resetAfterMs: 0, retryAfterMs: 0, reason: 'error' });
    assert.deepEqual(closed, {
      status: 503, headers: [['Retry-After', '1']], body: '{"error":"rate_limiter_unavailable","reason":"error"}',
    });
    assert.throws(() => rateLimitAnswer({ allowed: true, reason: 'maybe' }), InvalidArgument);
  });
});
