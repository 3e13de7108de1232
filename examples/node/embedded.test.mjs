// Unit tests with no Redis: `Client.embedded()` runs every pattern in process, with the
// same scripts and results as a server. Each test gets a fresh engine.
// Run: node --test embedded.test.mjs
import assert from 'node:assert/strict'
import { afterEach, beforeEach, test } from 'node:test'
import { Client } from 'redkit'

// The code under test: a cache-aside read, `db` being the database (its calls logged).
async function profileOf(client, userId, db) {
  return client.cache('profiles', { ttl: 60_000 }).getOrSet(`user:${userId}`, async () => {
    db.push(userId)
    return { id: userId }
  })
}

let client
beforeEach(async () => {
  client = await Client.embedded()
})
afterEach(async () => {
  await client.close()
})

test('a second read is a hit', async () => {
  const db = []
  assert.deepEqual(await profileOf(client, 42, db), { id: 42 })
  assert.deepEqual(await profileOf(client, 42, db), { id: 42 })
  assert.deepEqual(db, [42])
})

test('the limit holds', async () => {
  const api = client.rateLimiter('api', { limit: 2, window: 60_000 })
  const allowed = []
  for (let i = 0; i < 3; i++) allowed.push((await api.limit('u')).allowed)
  assert.deepEqual(allowed, [true, true, false])
})
