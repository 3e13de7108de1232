// The rate limiter through either JS package, over every transport of the backend that
// talks to a real redis-server: the result object, numbers past 32 bits, several limits
// decided together, the shared layout, the client clock, bad input (typed InvalidArgument
// with its code, never a crash), one round trip per decision, localBlock costing none,
// concurrent decisions and a closed client. What fails differently per backend (a paused
// or dead server, the gateway, a panic, the HTTP glue) stays in that package's suite.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api, clientsOver, prefix, serverTransports, useBackend } from './harness.mjs';

const { InvalidArgument, RateLimiter } = api;
const FIELDS = ['allowed', 'limit', 'remaining', 'resetAfterMs', 'retryAfterMs', 'reason'];

const backend = useBackend();

/** How many commands the server has run, INFO excepted (those a script runs count too). */
async function commandCalls(command, only) {
  const info = await command('INFO', 'commandstats');
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (m[1] !== 'info' && (only === undefined || only.includes(m[1]))) n += Number(m[2]);
  }
  return n;
}
/** How many scripts clients have sent (EVALSHA + EVAL; commands run inside scripts are not counted). */
const scriptCalls = (command) => commandCalls(command, ['evalsha', 'eval']);

/**
 * The server's script count once nothing else is arriving: the REST transport retries a
 * request that timed out on a loaded machine, and the gateway still runs the late copy, so
 * an earlier test's decisions can reach the server while a later test counts.
 */
async function settledScriptCalls(command) {
  let last = await scriptCalls(command);
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await scriptCalls(command);
    if (now === last) return now;
    last = now;
  }
  return last;
}

for (const transport of serverTransports) {
  describe(`rate limiter over ${transport}`, () => {
    const { client, command } = clientsOver(backend, transport);

    test('limit, peek and reset give the documented result object', async () => {
      const limiter = (await client('shape')).rateLimiter('shape', { limit: 3, window: 60_000 });
      assert.ok(limiter instanceof RateLimiter);
      const first = await limiter.limit('user:42');
      assert.deepEqual(Object.keys(first).sort(), [...FIELDS].sort());
      assert.deepEqual({ ...first, resetAfterMs: 0 }, { allowed: true, limit: 3, remaining: 2, resetAfterMs: 0, retryAfterMs: 0, reason: 'limit' });
      // gcra: one emission interval (20 s) per unit consumed.
      assert.ok(first.resetAfterMs > 19_000 && first.resetAfterMs <= 20_000, `${first.resetAfterMs}`);
      assert.equal((await limiter.limit('user:42', { cost: 2 })).remaining, 0);
      const denied = await limiter.limit('user:42');
      assert.equal(denied.allowed, false);
      assert.ok(denied.retryAfterMs > 19_000 && denied.retryAfterMs <= 20_000, `${denied.retryAfterMs}`);
      const peeked = await limiter.peek('user:42');
      assert.equal(peeked.allowed, false);
      assert.equal(peeked.remaining, 0);
      assert.equal(await limiter.reset('user:42'), undefined);
      assert.equal((await limiter.peek('user:42')).remaining, 3);
    });

    test('numbers past 16 and 32 bits cross whole', async () => {
      const c = await client('wide');
      const T0 = 1_700_000_040_000;
      const DAY = 86_400_000;
      const left = (w) => (Math.floor(T0 / w) + 1) * w - T0;
      // A window of 200 days: 124 days (more than 2^32 ms) to its end; limits past 2^16 and
      // 2^20 (where the script's one-integer admission gives way to its table).
      for (const limit of [10, 70_000, 3_000_000]) {
        const limiter = c.rateLimiter(`wide${limit}`, { algorithm: 'fixed_window', limit, window: 200 * DAY });
        const r = await limiter.limit('u', { cost: 3, nowMs: T0 });
        assert.deepEqual(r, { allowed: true, limit, remaining: limit - 3, resetAfterMs: left(200 * DAY), retryAfterMs: 0, reason: 'limit' });
        assert.ok(r.resetAfterMs > 2 ** 32);
        const denied = await limiter.limit('u', { cost: limit, nowMs: T0 });
        assert.deepEqual(denied, { allowed: false, limit, remaining: limit - 3, resetAfterMs: left(200 * DAY), retryAfterMs: left(200 * DAY), reason: 'limit' });
      }
    });

    test('several limits are decided together: nothing is consumed unless all allow', async () => {
      const limiter = (await client('multi')).rateLimiter('api', {
        algorithm: 'fixed_window', limit: 5, window: 60_000, limits: [{ limit: 2, window: 3_600_000 }],
      });
      const t = 1_700_000_000_000;
      assert.equal((await limiter.limit('u', { nowMs: t })).remaining, 1);
      assert.equal((await limiter.limit('u', { nowMs: t })).allowed, true);
      const denied = await limiter.limit('u', { nowMs: t });
      assert.equal(denied.allowed, false);
      assert.equal(denied.limit, 2); // the hourly rule decided
      // The per-minute rule was not charged for the denied request.
      const peek = await limiter.peek('u', { nowMs: t });
      assert.equal(peek.limit, 2);
      assert.equal(peek.remaining, 0);
    });

    test('the state is in the shared layout, with an expiry', async () => {
      const p = prefix('layout');
      const limiter = (await client('layout', p)).rateLimiter('layout', { limit: 10, window: 1_000 });
      await limiter.limit('ip:1');
      const ttl = await command('PTTL', `${p}:{rl:layout}:g:ip:1`);
      assert.ok(ttl > 0 && ttl <= 1_000, `pttl ${ttl}`);
    });

    test('the client clock decides when asked', async () => {
      const limiter = (await client('clock')).rateLimiter('clock', { algorithm: 'sliding_log', limit: 1, window: 60_000, clock: 'client' });
      assert.equal((await limiter.limit('u')).allowed, true);
      const denied = await limiter.limit('u');
      assert.equal(denied.allowed, false);
      assert.ok(denied.retryAfterMs > 59_000 && denied.retryAfterMs <= 60_000, `${denied.retryAfterMs}`);
    });

    test('bad options are InvalidArgument with its code, at rateLimiter()', async () => {
      const c = await client('badopts');
      const badOptions = [
        { limit: 0 }, { limit: -1 }, { limit: 1.5 }, { limit: NaN }, { limit: '10' }, { limit: Infinity },
        { window: 0 }, { window: -5 }, { window: NaN }, { window: '1 s' }, { window: '7y' },
        { burst: -1 }, { algorithm: 'fixed_window', burst: 1 }, { algorithm: 'leaky_bucket' }, { algorithm: 5 },
        { limits: 'x' }, { limits: [{ limit: 0, window: 1_000 }] }, { limits: [{ window: 1_000 }] }, { limits: [null] },
        { countDenied: 'yes' }, { onError: 'maybe' }, { timeout: 0 }, { timeout: -1 }, { localBlock: 1 }, { clock: 'moon' },
      ];
      for (const opts of badOptions) {
        assert.throws(
          () => c.rateLimiter('api', opts),
          (e) => e instanceof InvalidArgument && e.code === 'ERR_INVALID_ARGUMENT',
          JSON.stringify(opts, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
        );
      }
      for (const name of ['', 'a{b}', 42, undefined]) {
        assert.throws(() => c.rateLimiter(name), InvalidArgument, String(name));
      }
      assert.throws(() => c.rateLimiter('api', 5), InvalidArgument);
      assert.throws(() => new RateLimiter(), InvalidArgument);
    });

    test('bad arguments reject with InvalidArgument and its code, never a crash', async () => {
      const limiter = (await client('badargs')).rateLimiter('bad', { limit: 10, window: 1_000, burst: 2 });
      const rejected = [
        () => limiter.limit(''), () => limiter.limit(42), () => limiter.limit(), () => limiter.limit(null),
        () => limiter.limit('u', { cost: 0 }), () => limiter.limit('u', { cost: -1 }), () => limiter.limit('u', { cost: 1.5 }),
        () => limiter.limit('u', { cost: NaN }), () => limiter.limit('u', { cost: Infinity }),
        () => limiter.limit('u', { cost: 13 }), () => limiter.limit('u', { cost: '1' }), () => limiter.limit('u', 'x'),
        () => limiter.limit('u', { nowMs: -1 }), () => limiter.limit('u', { nowMs: 1.5 }), () => limiter.limit('u', { nowMs: NaN }),
        // A clock read in the wrong unit is refused, not decided wrongly (issue 16, item 3).
        () => limiter.limit('u', { nowMs: 1.8e18 }), () => limiter.limit('u', { nowMs: 2 ** 62 }),
        () => limiter.limit('u', { nowMs: 1.765e15 }), () => limiter.limit('u', { nowMs: 1.765e9 }),
        () => limiter.peek('u', { nowMs: 1.765e15 }),
        () => limiter.peek(''), () => limiter.peek(null), () => limiter.reset(''), () => limiter.reset({}),
      ];
      for (const call of rejected) {
        await assert.rejects(call(), (e) => e instanceof InvalidArgument && e.code === 'ERR_INVALID_ARGUMENT', String(call));
      }
      // limit + burst is the most one call can ask for.
      assert.equal((await limiter.limit('u', { cost: 12 })).allowed, true);
    });

    test('penalty, reward and wait: bad arguments reject with InvalidArgument, the rest decide', async () => {
      const c = await client('adjust');
      const limiter = c.rateLimiter('adjust', { rate: '2/minute', blockFor: '1m', allowList: ['vip'] });
      assert.equal(limiter.policy, '2;w=60');
      const rejected = [
        () => limiter.penalty('u', 0), () => limiter.penalty('u', -1), () => limiter.penalty('u', 3), () => limiter.penalty('u', 1.5),
        () => limiter.penalty('u'), () => limiter.penalty('u', '1'), () => limiter.reward('u', 0), () => limiter.reward('', 1),
        () => limiter.reward('u', 1, { nowMs: -1 }), () => limiter.penalty('u', 1, 'x'),
        () => limiter.wait('u', { cost: 0 }), () => limiter.wait('u', { cost: 3 }), () => limiter.wait('u', { timeout: -1 }),
        () => limiter.wait('u', { timeout: 'soon' }), () => limiter.wait('u', { timeout: NaN }), () => limiter.wait(''),
      ];
      for (const call of rejected) {
        await assert.rejects(call(), (e) => e instanceof InvalidArgument && e.code === 'ERR_INVALID_ARGUMENT', String(call));
      }
      const taken = await limiter.penalty('u', 1);
      assert.deepEqual([taken.allowed, taken.remaining], [true, 1]);
      const back = await limiter.reward('u', 2);
      assert.deepEqual([back.allowed, back.remaining], [true, 2]);
      assert.equal((await limiter.wait('u', { cost: 2, timeout: '1s' })).allowed, true);
      // Exceeded: blocked for a minute, so a wait of 50 ms answers the denial at once.
      assert.equal((await limiter.limit('u')).allowed, false);
      const started = Date.now();
      const waited = await limiter.wait('u', { timeout: 50 });
      assert.equal(waited.allowed, false);
      assert.ok(waited.retryAfterMs > 59_000 && Date.now() - started < 1_000, `${waited.retryAfterMs}`);
      assert.equal((await limiter.wait('vip')).reason, 'allow_list');
      for (const opts of [
        { rate: '100/fortnight' }, { rate: 'abc' }, { rate: '0/minute' }, { rate: '' }, { rate: 5 },
        { rate: '1/second', limit: 1 }, { rate: '1/second', window: 1_000 }, { blockFor: -1 },
        { allowList: 'vip' }, { denyList: [''] }, { allowList: ['a'], denyList: ['a'] },
      ]) {
        assert.throws(() => c.rateLimiter('r', opts), (e) => e instanceof InvalidArgument && e.code === 'ERR_INVALID_ARGUMENT', JSON.stringify(opts));
      }
    });

    test('exactly one round trip (one script) per limit and peek', async () => {
      const c = await client('rt');
      for (const algorithm of ['gcra', 'token_bucket', 'sliding_window', 'sliding_log', 'fixed_window']) {
        const limiter = c.rateLimiter(`rt-${algorithm}`, { algorithm, limit: 5, window: 60_000, limits: [{ limit: 50, window: 3_600_000 }] });
        await limiter.limit('warm'); // loads the script (EVALSHA, then EVAL on NOSCRIPT) once
        const before = await settledScriptCalls(command);
        for (let i = 0; i < 8; i++) await limiter.limit('u');
        await limiter.peek('u');
        assert.equal((await scriptCalls(command)) - before, 9, algorithm);
      }
    });

    test('localBlock: a blocked identifier costs no round trip until its retry time', async () => {
      const limiter = (await client('local')).rateLimiter('local', { algorithm: 'sliding_log', limit: 2, window: 60_000, localBlock: true });
      await limiter.limit('u');
      await limiter.limit('u');
      const denied = await limiter.limit('u');
      assert.equal(denied.reason, 'limit');
      assert.equal(denied.allowed, false);
      const before = await commandCalls(command);
      const scriptsBefore = await scriptCalls(command);
      for (let i = 0; i < 20; i++) {
        const local = await limiter.limit('u');
        assert.equal(local.allowed, false);
        assert.equal(local.reason, 'local_block');
        assert.ok(local.retryAfterMs > 0 && local.retryAfterMs <= denied.retryAfterMs);
      }
      assert.equal(await commandCalls(command), before, 'no command reached Redis');
      // Another identifier still asks Redis.
      assert.equal((await limiter.limit('v')).reason, 'limit');
      assert.equal((await scriptCalls(command)) - scriptsBefore, 1);
      // reset forgets the local entry too.
      await limiter.reset('u');
      assert.equal((await limiter.limit('u')).reason, 'limit');
    });

    test('concurrent decisions on one identifier never admit more than the limit', async () => {
      const limiter = (await client('race')).rateLimiter('race', { algorithm: 'fixed_window', limit: 50, window: 60_000 });
      const now = Date.UTC(2030, 0, 1);
      const results = await Promise.all(Array.from({ length: 200 }, () => limiter.limit('u', { nowMs: now })));
      assert.equal(results.filter((r) => r.allowed).length, 50);
    });

    test('a limiter on a closed client rejects with Closed whatever onError says', async () => {
      const c = await client('rlclosed');
      const limiters = ['allow', 'deny', 'raise'].map((onError) => c.rateLimiter(onError, { limit: 3, onError }));
      await c.close();
      for (const l of limiters) {
        await assert.rejects(l.limit('u'), (e) => e.name === 'Closed' && e.code === 'ERR_CLOSED');
        await assert.rejects(l.peek('u'), (e) => e.name === 'Closed' && e.code === 'ERR_CLOSED');
      }
    });
  });
}
