// An Express route with redkit as its cache, served on 127.0.0.1 and called with fetch.
// Run: REDIS_URL=redis://127.0.0.1:6379 node express-route.mjs

import assert from 'node:assert/strict'
import express from 'express'
import { Client, InvalidArgument } from 'redkit'

const products = new Map([['1', { id: '1', name: 'Teapot', price: 18 }]])
let dbQueries = 0
async function loadProduct(id) {
  dbQueries += 1
  await new Promise((r) => setTimeout(r, 10))
  return products.get(id) ?? null
}

const client = await Client.connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  prefix: process.env.REDKIT_PREFIX ?? `example-express-${process.pid}`,
})
const cache = client.cache('products', { ttl: 60_000, jitter: 5_000 })

const app = express()
app.use(express.json())

app.get('/products/:id', async (req, res, next) => {
  try {
    const product = await cache.getOrSet(`product:${req.params.id}`, () => loadProduct(req.params.id), {
      tags: ['products'],
    })
    if (product === null) return res.status(404).json({ error: 'not found' })
    res.json(product)
  } catch (err) {
    next(err)
  }
})

app.put('/products/:id', async (req, res, next) => {
  try {
    const updated = { ...products.get(req.params.id), ...req.body, id: req.params.id }
    products.set(req.params.id, updated)
    await cache.set(`product:${req.params.id}`, updated, { tags: ['products'] }) // write-through
    res.json(updated)
  } catch (err) {
    next(err)
  }
})

app.post('/products/invalidate', async (_req, res, next) => {
  try {
    res.json({ deleted: await cache.invalidateTags(['products']) })
  } catch (err) {
    next(err)
  }
})

// redkit's typed errors map to HTTP statuses in one place.
app.use((err, _req, res, _next) => {
  res.status(err instanceof InvalidArgument ? 400 : 500).json({ error: err.name, code: err.code })
})

const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const base = `http://127.0.0.1:${server.address().port}`

try {
  const first = await fetch(`${base}/products/1`).then((r) => r.json())
  const second = await fetch(`${base}/products/1`).then((r) => r.json())
  assert.deepEqual(first, { id: '1', name: 'Teapot', price: 18 })
  assert.deepEqual(second, first)
  assert.equal(dbQueries, 1, 'the second request was served from the cache')

  const updated = await fetch(`${base}/products/1`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ price: 21 }),
  }).then((r) => r.json())
  assert.equal(updated.price, 21)
  assert.equal((await fetch(`${base}/products/1`).then((r) => r.json())).price, 21)
  assert.equal(dbQueries, 1, 'write-through: still no database query')

  const { deleted } = await fetch(`${base}/products/invalidate`, { method: 'POST' }).then((r) => r.json())
  assert.equal(deleted, 1)
  await fetch(`${base}/products/1`)
  assert.equal(dbQueries, 2, 'after invalidation the route reloads')

  assert.equal((await fetch(`${base}/products/404`)).status, 404)
  console.log('express example: ok (cached route, write-through, tag invalidation)')
} finally {
  server.close()
  await client.close()
}
