// An Express API rate limited by redkit: 5 requests per 10 s per API key (gcra, smooth),
// and 100 per hour on top, decided together in one round trip. Served on 127.0.0.1 and
// called with fetch. Run: REDIS_URL=redis://127.0.0.1:6379 node rate-limit-express.mjs

import assert from 'node:assert/strict'
import express from 'express'
import { Client } from 'redkit'
import { rateLimit } from 'redkit/express'

const client = await Client.connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  prefix: process.env.REDKIT_PREFIX ?? `example-ratelimit-${process.pid}`,
})
const perKey = client.rateLimiter('api', {
  limit: 5,
  window: 10_000,
  limits: [{ limit: 100, window: 3_600_000 }],
  onError: 'allow', // a Redis outage must not take the API down
  timeout: 100,
  localBlock: true, // a client hammering while blocked costs no round trip
})

const app = express()
// Identify callers by API key, falling back to their address; searches cost 2.
app.use(
  rateLimit(perKey, {
    key: (req) => req.get('x-api-key') ?? req.ip,
    cost: (req) => (req.path.startsWith('/search') ? 2 : 1),
  }),
)
app.get('/hello', (req, res) => res.json({ hello: 'world', remaining: req.rateLimit.remaining }))
app.get('/search', (req, res) => res.json({ results: [] }))

const http = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s))
})
const base = `http://127.0.0.1:${http.address().port}`
try {
  const call = async (path, key = 'key-1') => {
    const r = await fetch(base + path, { headers: { 'x-api-key': key } })
    const h = (name) => r.headers.get(name)
    console.log(
      `${path.padEnd(8)} ${key} -> ${r.status}  RateLimit-Limit ${h('ratelimit-limit')}, -Remaining ${h('ratelimit-remaining')}, -Reset ${h('ratelimit-reset')} s` +
        (r.status === 429 ? `, Retry-After ${h('retry-after')} s` : ''),
    )
    return r
  }
  await perKey.reset('key-1')
  await perKey.reset('key-2')
  assert.equal((await call('/hello')).status, 200)
  assert.equal((await call('/search')).status, 200) // cost 2
  assert.equal((await call('/hello')).status, 200)
  assert.equal((await call('/hello')).status, 200)
  const denied = await call('/hello')
  assert.equal(denied.status, 429)
  console.log('  body:', JSON.stringify(await denied.json()))
  assert.equal((await call('/hello')).status, 429) // decided in-process (localBlock)
  assert.equal((await call('/hello', 'key-2')).status, 200) // another key has its own limit
  console.log('rate-limit-express: ok')
} finally {
  http.close()
  await client.close()
}
