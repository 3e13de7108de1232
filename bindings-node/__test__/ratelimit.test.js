'use strict'
// The rate limiter against a real redis-server: the result object, bad input (typed
// InvalidArgument with its code, never a crash), one round trip per decision, localBlock
// costing none, and onError with a paused and then a dead server, within the timeout.

const assert = require('node:assert/strict')
const { after, before, describe, test } = require('node:test')

const { Client, InvalidArgument, RateLimiter, RedkitError, TimeoutError } = require('..')
const { command, prefix, startServer } = require('./server.js')

let server
let client
before(async () => {
  server = await startServer()
  client = await Client.connect(server.url, { prefix: prefix('rl') })
})
after(async () => {
  await client.close()
  await server.stop()
})

const FIELDS = ['allowed', 'limit', 'remaining', 'resetAfterMs', 'retryAfterMs', 'reason']

/** How many scripts clients have sent (EVALSHA + EVAL; commands run inside scripts are not counted). */
async function scriptCalls(port) {
  const info = await command(port, 'INFO', 'commandstats')
  let n = 0
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) n += Number(m[1])
  return n
}

test('limit, peek and reset give the documented result object', async () => {
  const api = client.rateLimiter('shape', { limit: 3, window: 60_000 })
  assert.ok(api instanceof RateLimiter)
  const first = await api.limit('user:42')
  assert.deepEqual(Object.keys(first).sort(), [...FIELDS].sort())
  assert.deepEqual({ ...first, resetAfterMs: 0 }, { allowed: true, limit: 3, remaining: 2, resetAfterMs: 0, retryAfterMs: 0, reason: 'limit' })
  // gcra: one emission interval (20 s) per unit consumed.
  assert.ok(first.resetAfterMs > 19_000 && first.resetAfterMs <= 20_000, `${first.resetAfterMs}`)
  assert.equal((await api.limit('user:42', { cost: 2 })).remaining, 0)
  const denied = await api.limit('user:42')
  assert.equal(denied.allowed, false)
  assert.ok(denied.retryAfterMs > 19_000 && denied.retryAfterMs <= 20_000, `${denied.retryAfterMs}`)
  const peeked = await api.peek('user:42')
  assert.equal(peeked.allowed, false)
  assert.equal(await api.reset('user:42'), undefined)
  assert.equal((await api.peek('user:42')).remaining, 3)
})

test('numbers past 16 and 32 bits cross whole, in both reply forms', async () => {
  const T0 = 1_700_000_040_000
  const DAY = 86_400_000
  const left = (w) => (Math.floor(T0 / w) + 1) * w - T0
  // A window of 200 days: 124 days (more than 2^32 ms) to its end; limits past 2^16 and
  // 2^20 (where the script's one-integer admission gives way to its table).
  for (const limit of [10, 70_000, 3_000_000]) {
    const api = client.rateLimiter(`wide${limit}`, { algorithm: 'fixed_window', limit, window: 200 * DAY })
    const r = await api.limit('u', { cost: 3, nowMs: T0 })
    assert.deepEqual(r, { allowed: true, limit, remaining: limit - 3, resetAfterMs: left(200 * DAY), retryAfterMs: 0, reason: 'limit' })
    assert.ok(r.resetAfterMs > 2 ** 32)
    const denied = await api.limit('u', { cost: limit, nowMs: T0 })
    assert.deepEqual(denied, { allowed: false, limit, remaining: limit - 3, resetAfterMs: left(200 * DAY), retryAfterMs: left(200 * DAY), reason: 'limit' })
  }
})

test('the state is in the shared layout, with an expiry', async () => {
  const api = client.rateLimiter('layout', { limit: 10, window: 1_000 })
  await api.limit('ip:1')
  const ttl = Number((await command(server.port, 'PTTL', `${client.prefix}:{rl:layout}:g:ip:1`)).slice(1))
  assert.ok(ttl > 0 && ttl <= 1_000, `pttl ${ttl}`)
})

test('the client clock decides when asked', async () => {
  const api = client.rateLimiter('clock', { algorithm: 'sliding_log', limit: 1, window: 60_000, clock: 'client' })
  assert.equal((await api.limit('u')).allowed, true)
  const denied = await api.limit('u')
  assert.equal(denied.allowed, false)
  assert.ok(denied.retryAfterMs > 59_000 && denied.retryAfterMs <= 60_000, `${denied.retryAfterMs}`)
})

test('bad options are InvalidArgument with its code, at rateLimiter()', () => {
  const badOptions = [
    { limit: 0 }, { limit: -1 }, { limit: 1.5 }, { limit: NaN }, { limit: '10' }, { limit: Infinity },
    { window: 0 }, { window: -5 }, { window: NaN }, { window: '1 s' }, { window: '7y' },
    { burst: -1 }, { algorithm: 'fixed_window', burst: 1 }, { algorithm: 'leaky_bucket' }, { algorithm: 5 },
    { limits: 'x' }, { limits: [{ limit: 0, window: 1_000 }] }, { limits: [{ window: 1_000 }] }, { limits: [null] },
    { countDenied: 'yes' }, { onError: 'maybe' }, { timeout: 0 }, { timeout: -1 }, { localBlock: 1 }, { clock: 'moon' },
  ]
  for (const opts of badOptions) {
    assert.throws(
      () => client.rateLimiter('api', opts),
      (e) => e instanceof InvalidArgument && e.code === 'ERR_INVALID_ARGUMENT',
      JSON.stringify(opts, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
    )
  }
  for (const name of ['', 'a{b}', 42, undefined]) {
    assert.throws(() => client.rateLimiter(name), InvalidArgument, String(name))
  }
  assert.throws(() => client.rateLimiter('api', 5), InvalidArgument)
  assert.throws(() => new RateLimiter(), InvalidArgument)
})

test('bad arguments reject with InvalidArgument and its code, never a crash', async () => {
  const api = client.rateLimiter('bad', { limit: 10, window: 1_000, burst: 2 })
  const rejected = [
    () => api.limit(''), () => api.limit(42), () => api.limit(), () => api.limit(null),
    () => api.limit('u', { cost: 0 }), () => api.limit('u', { cost: -1 }), () => api.limit('u', { cost: 1.5 }),
    () => api.limit('u', { cost: NaN }), () => api.limit('u', { cost: Infinity }),
    () => api.limit('u', { cost: 13 }), () => api.limit('u', { cost: '1' }), () => api.limit('u', 'x'),
    () => api.limit('u', { nowMs: -1 }), () => api.limit('u', { nowMs: 1.5 }), () => api.limit('u', { nowMs: NaN }),
    // A clock read in the wrong unit is refused, not decided wrongly (issue 16, item 3).
    () => api.limit('u', { nowMs: 1.8e18 }), () => api.limit('u', { nowMs: 2 ** 62 }),
    () => api.limit('u', { nowMs: 1.765e15 }), () => api.limit('u', { nowMs: 1.765e9 }),
    () => api.peek('u', { nowMs: 1.765e15 }),
    () => api.peek(''), () => api.peek(null), () => api.reset(''), () => api.reset({}),
  ]
  for (const call of rejected) {
    await assert.rejects(call(), (e) => e instanceof InvalidArgument && e.code === 'ERR_INVALID_ARGUMENT', String(call))
  }
  // limit + burst is the most one call can ask for.
  assert.equal((await api.limit('u', { cost: 12 })).allowed, true)
})

test('exactly one round trip (one script) per limit and peek', async () => {
  for (const algorithm of ['gcra', 'token_bucket', 'sliding_window', 'sliding_log', 'fixed_window']) {
    const api = client.rateLimiter(`rt-${algorithm}`, { algorithm, limit: 5, window: 60_000, limits: [{ limit: 50, window: 3_600_000 }] })
    await api.limit('warm') // loads the script (EVALSHA, then EVAL on NOSCRIPT) once
    const before = await scriptCalls(server.port)
    for (let i = 0; i < 8; i++) await api.limit('u')
    await api.peek('u')
    assert.equal((await scriptCalls(server.port)) - before, 9, algorithm)
  }
})

test('localBlock: a blocked identifier costs no round trip until its retry time', async () => {
  const api = client.rateLimiter('local', { algorithm: 'fixed_window', limit: 2, window: 60_000, localBlock: true })
  await api.limit('u')
  await api.limit('u')
  const denied = await api.limit('u')
  assert.equal(denied.reason, 'limit')
  assert.equal(denied.allowed, false)
  const before = await scriptCalls(server.port)
  for (let i = 0; i < 20; i++) {
    const local = await api.limit('u')
    assert.equal(local.allowed, false)
    assert.equal(local.reason, 'local_block')
    assert.ok(local.retryAfterMs > 0 && local.retryAfterMs <= denied.retryAfterMs)
  }
  assert.equal(await scriptCalls(server.port), before, 'no script reached Redis')
  // Another identifier still asks Redis.
  assert.equal((await api.limit('v')).reason, 'limit')
  assert.equal((await scriptCalls(server.port)) - before, 1)
  // reset forgets the local entry too.
  await api.reset('u')
  assert.equal((await api.limit('u')).reason, 'limit')
})

test('concurrent decisions on one identifier never admit more than the limit', async () => {
  const api = client.rateLimiter('race', { algorithm: 'fixed_window', limit: 50, window: 60_000 })
  const now = Date.UTC(2030, 0, 1)
  const results = await Promise.all(Array.from({ length: 200 }, () => api.limit('u', { nowMs: now })))
  assert.equal(results.filter((r) => r.allowed).length, 50)
})

describe('onError when Redis is slow or dead', () => {
  const TIMEOUT = 300
  // Time allowed past the timeout for the decision to come back (timers, a loaded machine).
  const SLACK = 700

  async function timed(fn) {
    const started = Date.now()
    const value = await fn()
    return { value, took: Date.now() - started }
  }

  function assertCovered(r, allowed, took, ErrorClass) {
    assert.equal(r.allowed, allowed)
    assert.equal(r.reason, 'error')
    assert.equal(r.remaining, 0)
    assert.equal(r.retryAfterMs, 0)
    assert.ok(r.error instanceof ErrorClass, `covered error: ${r.error?.name}: ${r.error?.message}`)
    assert.ok(took < TIMEOUT + SLACK, `decided after ${took} ms`)
  }

  test('a paused server, then a dead one: allow, deny or raise within the timeout', async () => {
    // Own server: pausing and shutting it down must not disturb the other tests.
    const own = await startServer()
    const c = await Client.connect(own.url, { prefix: prefix('down'), timeout: 5_000 })
    try {
      const opts = { limit: 5, window: 1_000, timeout: TIMEOUT }
      const allow = c.rateLimiter('api', { ...opts, onError: 'allow' })
      const deny = c.rateLimiter('api', { ...opts, onError: 'deny' })
      const raise = c.rateLimiter('api', { ...opts, onError: 'raise' })
      assert.equal((await allow.limit('u')).reason, 'limit')

      await command(own.port, 'CLIENT', 'PAUSE', String(TIMEOUT * 6), 'ALL')
      let r = await timed(() => allow.limit('u'))
      assertCovered(r.value, true, r.took, TimeoutError)
      assert.ok(r.took >= TIMEOUT - 20, `gave up after ${r.took} ms`)
      r = await timed(() => deny.limit('u'))
      assertCovered(r.value, false, r.took, TimeoutError)
      const started = Date.now()
      await assert.rejects(raise.limit('u'), TimeoutError)
      assert.ok(Date.now() - started < TIMEOUT + SLACK)
      // Bad input stays an error whatever onError says.
      await assert.rejects(allow.limit('u', { cost: 0 }), InvalidArgument)
      await command(own.port, 'CLIENT', 'UNPAUSE')
      assert.equal((await allow.limit('v')).reason, 'limit')

      await command(own.port, 'SHUTDOWN', 'NOSAVE').catch(() => {})
      r = await timed(() => allow.limit('u'))
      assertCovered(r.value, true, r.took, RedkitError)
      assert.notEqual(r.value.error.code, 'ERR_INVALID_ARGUMENT')
      r = await timed(() => deny.limit('u'))
      assertCovered(r.value, false, r.took, RedkitError)
      await assert.rejects(raise.limit('u'), RedkitError)
    } finally {
      await c.close().catch(() => {})
      await own.stop()
    }
  })
})

test('a limiter on a closed client rejects with Closed whatever onError says', async () => {
  const c = await Client.connect(server.url, { prefix: prefix('rlclosed') })
  const limiters = ['allow', 'deny', 'raise'].map((onError) => c.rateLimiter(onError, { limit: 3, onError }))
  await c.close()
  for (const l of limiters) {
    await assert.rejects(l.limit('u'), (e) => e.name === 'Closed' && e.code === 'ERR_CLOSED')
    await assert.rejects(l.peek('u'), (e) => e.name === 'Closed' && e.code === 'ERR_CLOSED')
  }
})
