'use strict'
// The Express middleware (redkit/express) on a real Express app listening on 127.0.0.1,
// called with fetch, against a real redis-server: RateLimit-* headers, 429 with Retry-After
// and a JSON body, key and cost functions, and what happens when Redis cannot decide.

const assert = require('node:assert/strict')
const { after, before, test } = require('node:test')
const express = require('express')

const { Client, InvalidArgument } = require('..')
const { rateLimit } = require('redkit/express')
const { command, prefix, startServer } = require('./server.js')

let server
let client
before(async () => {
  server = await startServer()
  client = await Client.connect(server.url, { prefix: prefix('express') })
})
after(async () => {
  await client.close()
  await server.stop()
})

/** Serve `app` on a free loopback port for the duration of `fn(baseUrl)`. */
async function serve(app, fn) {
  const http = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  try {
    return await fn(`http://127.0.0.1:${http.address().port}`)
  } finally {
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  }
}

function app(middleware) {
  const a = express()
  a.use(middleware)
  a.get('/', (req, res) => res.json({ ok: true, remaining: req.rateLimit?.remaining ?? null }))
  a.use((err, req, res, _next) => res.status(500).json({ error: err.name }))
  return a
}

test('RateLimit-* headers on every response, 429 + Retry-After + JSON body when denied', async () => {
  const limiter = client.rateLimiter('headers', { algorithm: 'sliding_log', limit: 2, window: 60_000 })
  await serve(app(rateLimit(limiter)), async (base) => {
    const first = await fetch(base)
    assert.equal(first.status, 200)
    assert.equal(first.headers.get('ratelimit-limit'), '2')
    assert.equal(first.headers.get('ratelimit-remaining'), '1')
    const reset = Number(first.headers.get('ratelimit-reset'))
    assert.ok(reset >= 1 && reset <= 60, `RateLimit-Reset ${reset}`)
    assert.deepEqual(await first.json(), { ok: true, remaining: 1 }) // req.rateLimit is set
    assert.equal((await fetch(base)).headers.get('ratelimit-remaining'), '0')

    const denied = await fetch(base)
    assert.equal(denied.status, 429)
    assert.equal(denied.headers.get('ratelimit-remaining'), '0')
    const retry = Number(denied.headers.get('retry-after'))
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`)
    assert.match(denied.headers.get('content-type'), /^application\/json/)
    // The core's answer: the same body as Flask, Starlette and the edge give.
    const body = await denied.json()
    assert.deepEqual(Object.keys(body), ['error', 'reason', 'limit', 'remaining', 'retry_after_ms'])
    assert.equal(body.error, 'rate_limited')
    assert.equal(body.reason, 'limit')
    assert.equal(body.limit, 2)
    assert.equal(body.remaining, 0)
    assert.ok(body.retry_after_ms > 0 && Math.ceil(body.retry_after_ms / 1000) === retry)
  })
  // The default key is req.ip: the loopback address was the one limited.
  assert.equal((await limiter.peek('127.0.0.1')).remaining, 0)
})

test('key(req) and cost(req) choose the identifier and the cost; a null key is not limited', async () => {
  const limiter = client.rateLimiter('keyed', { algorithm: 'sliding_log', limit: 5, window: 60_000 })
  const mw = rateLimit(limiter, {
    key: async (req) => req.get('x-api-key') ?? null,
    cost: (req) => Number(req.query.cost ?? 1),
  })
  await serve(app(mw), async (base) => {
    const as = (key, path = '/') => fetch(base + path, { headers: { 'x-api-key': key } })
    assert.equal((await as('a', '/?cost=4')).headers.get('ratelimit-remaining'), '1')
    assert.equal((await as('a', '/?cost=2')).status, 429)
    assert.equal((await as('a')).status, 200) // the denied cost-2 request consumed nothing
    assert.equal((await as('b')).headers.get('ratelimit-remaining'), '4')
    const anonymous = await fetch(base)
    assert.equal(anonymous.status, 200)
    assert.equal(anonymous.headers.get('ratelimit-limit'), null)
    // A cost the limiter rejects (above the limit) reaches the error handler as InvalidArgument.
    const bad = await as('c', '/?cost=99')
    assert.equal(bad.status, 500)
    assert.deepEqual(await bad.json(), { error: 'InvalidArgument' })
  })
})

test('onDenied answers a refusal in place of the default body, with the headers already set', async () => {
  const limiter = client.rateLimiter('custom', { algorithm: 'sliding_log', limit: 1, window: 60_000 })
  const mw = rateLimit(limiter, {
    key: () => 'one',
    onDenied: (req, res, result) => res.end(`slow down, ${result.retryAfterMs > 0 ? 'later' : 'now'}`),
  })
  await serve(app(mw), async (base) => {
    assert.equal((await fetch(base)).status, 200)
    const r = await fetch(base)
    assert.equal(r.status, 429)
    assert.ok(Number(r.headers.get('retry-after')) >= 1)
    assert.equal(r.headers.get('ratelimit-remaining'), '0')
    assert.equal(await r.text(), 'slow down, later')
  })
  assert.throws(() => rateLimit(limiter, { onDenied: 'no' }), InvalidArgument)
})

test('when Redis cannot decide: onError allow passes without headers, deny is 503, raise goes to next(err)', async () => {
  const own = await startServer()
  const c = await Client.connect(own.url, { prefix: prefix('express-down') })
  try {
    const opts = { limit: 5, window: 1_000, timeout: 200 }
    const mws = {
      allow: rateLimit(c.rateLimiter('api', { ...opts, onError: 'allow' })),
      deny: rateLimit(c.rateLimiter('api', { ...opts, onError: 'deny' })),
      raise: rateLimit(c.rateLimiter('api', { ...opts, onError: 'raise' })),
      insured: rateLimit(c.rateLimiter('api', { ...opts, limit: 1, insurance: true })),
    }
    await command(own.port, 'SHUTDOWN', 'NOSAVE')
    await serve(app(mws.allow), async (base) => {
      const r = await fetch(base)
      assert.equal(r.status, 200)
      assert.equal(r.headers.get('ratelimit-limit'), null)
    })
    await serve(app(mws.deny), async (base) => {
      const r = await fetch(base)
      assert.equal(r.status, 503)
      assert.equal(r.headers.get('retry-after'), '1')
      assert.deepEqual(await r.json(), { error: 'rate_limiter_unavailable', reason: 'error' })
    })
    await serve(app(mws.raise), async (base) => {
      const r = await fetch(base)
      assert.equal(r.status, 500)
      assert.match((await r.json()).error, /Error$/)
    })
    // Insurance decides in-process with the same limit: its 429 is the limit's.
    await serve(app(mws.insured), async (base) => {
      const first = await fetch(base)
      assert.equal(first.status, 200)
      assert.equal(first.headers.get('ratelimit-limit'), '1')
      const denied = await fetch(base)
      assert.equal(denied.status, 429)
      assert.ok(Number(denied.headers.get('retry-after')) >= 1)
      assert.equal((await denied.json()).reason, 'insurance')
    })
  } finally {
    await c.close().catch(() => {})
    await own.stop()
  }
})

test('works on a plain node:http server too (keyed by the socket address)', async () => {
  const limiter = client.rateLimiter('plain', { algorithm: 'sliding_log', limit: 1, window: 60_000 })
  const mw = rateLimit(limiter)
  const http = require('node:http').createServer((req, res) => mw(req, res, () => res.end('ok')))
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve))
  try {
    const base = `http://127.0.0.1:${http.address().port}`
    const ok = await fetch(base)
    assert.equal(await ok.text(), 'ok')
    assert.equal(ok.headers.get('ratelimit-remaining'), '0')
    assert.equal((await fetch(base)).status, 429)
    assert.equal((await limiter.peek('127.0.0.1')).allowed, false)
  } finally {
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  }
})

test('bad middleware options are InvalidArgument', () => {
  const limiter = client.rateLimiter('opts')
  assert.throws(() => rateLimit(), InvalidArgument)
  assert.throws(() => rateLimit({}), InvalidArgument)
  assert.throws(() => rateLimit(limiter, { key: 'ip' }), InvalidArgument)
  assert.throws(() => rateLimit(limiter, { cost: 2 }), InvalidArgument)
})

test('per route: each route its own limiter, with its RateLimit-Policy; the deny list is 403', async () => {
  const login = client.rateLimiter('login', { rate: '1/minute', denyList: ['10.9.9.9'] })
  const site = client.rateLimiter('site', { rate: '100/minute' })
  const a = express()
  const key = (req) => req.get('x-user')
  a.post('/login', rateLimit(login, { key }), (req, res) => res.json({ in: true }))
  a.get('/', rateLimit(site, { key }), (req, res) => res.json({ ok: true }))
  await serve(a, async (base) => {
    const post = (user) => fetch(`${base}/login`, { method: 'POST', headers: { 'x-user': user } })
    const first = await post('ada')
    assert.equal(first.status, 200)
    assert.equal(first.headers.get('ratelimit-policy'), '1;w=60')
    const denied = await post('ada')
    assert.equal(denied.status, 429)
    assert.equal(denied.headers.get('ratelimit-policy'), '1;w=60')
    for (let i = 0; i < 3; i++) {
      const r = await fetch(base, { headers: { 'x-user': 'ada' } })
      assert.equal(r.status, 200)
      assert.equal(r.headers.get('ratelimit-policy'), '100;w=60')
    }
    const banned = await post('10.9.9.9')
    assert.equal(banned.status, 403)
    assert.equal(banned.headers.get('retry-after'), null)
    assert.deepEqual(await banned.json(), { error: 'forbidden', reason: 'deny_list' })
  })
})
