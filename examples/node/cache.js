'use strict'
// The seed article's caching patterns, with redkit instead of hand-written GET/SETEX/SADD:
// cache-aside with jittered TTLs, delete-on-write, write-through, and tag invalidation,
// with stampede protection built in. Run: REDIS_URL=redis://127.0.0.1:6379 node cache.js

const assert = require('node:assert/strict')
const { Client } = require('redkit')

// A stand-in for the database: counts how often it is asked.
const db = {
  queries: 0,
  users: new Map([['42', { id: '42', name: 'Ada', teamId: '7' }]]),
  async findUserById(id) {
    this.queries += 1
    await new Promise((r) => setTimeout(r, 20))
    return this.users.get(id) ?? null
  },
  async updateUser(id, data) {
    const updated = { ...this.users.get(id), ...data }
    this.users.set(id, updated)
    return updated
  },
}

class NotFoundError extends Error {}

async function main() {
  const client = await Client.connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    prefix: process.env.REDKIT_PREFIX ?? `example-${process.pid}`,
    retries: 3, // like maxRetriesPerRequest: fail fast instead of hanging
    retryBackoffMax: 2000, // exponential backoff, max 2 s
    offlineQueue: true, // queue commands while reconnecting
    lazyConnect: false, // connect on startup, fail fast if Redis is down
  })
  // ttl 60 min + up to 5 min of jitter, so keys written together do not expire together.
  const users = client.cache('users', { ttl: 3_600_000, jitter: 300_000 })

  // Cache-aside (lazy loading): check the cache, fall back to the database, populate.
  async function getUserById(id) {
    return users.getOrSet(`user:${id}`, async () => {
      const user = await db.findUserById(id)
      if (!user) throw new NotFoundError(`User ${id} not found`)
      return user
    }, { tags: [`team:${db.users.get(id)?.teamId ?? 'none'}`] })
  }

  assert.equal((await getUserById('42')).name, 'Ada')
  assert.equal((await getUserById('42')).name, 'Ada')
  assert.equal(db.queries, 1, 'the second read was a cache hit')

  // A stampede: 50 concurrent misses on one key run the loader once.
  await users.delete('user:42')
  await Promise.all(Array.from({ length: 50 }, () => getUserById('42')))
  assert.equal(db.queries, 2, 'fifty concurrent misses, one database query')

  // A loader that throws caches nothing and reaches the caller as thrown.
  await assert.rejects(getUserById('404'), NotFoundError)

  // Pattern 1: delete on write.
  async function updateUserDeleteOnWrite(id, data) {
    const updated = await db.updateUser(id, data)
    await users.delete(`user:${id}`)
    return updated
  }
  await updateUserDeleteOnWrite('42', { name: 'Ada L.' })
  assert.equal((await getUserById('42')).name, 'Ada L.')

  // Pattern 2: write-through.
  async function updateUserWriteThrough(id, data) {
    const updated = await db.updateUser(id, data)
    await users.set(`user:${id}`, updated, { tags: [`team:${updated.teamId}`] })
    return updated
  }
  await updateUserWriteThrough('42', { name: 'Ada Lovelace' })
  const before = db.queries
  assert.equal((await getUserById('42')).name, 'Ada Lovelace')
  assert.equal(db.queries, before, 'write-through: the read after the write is a hit')

  // Pattern 3: tag-based invalidation, one atomic script whatever the number of keys.
  const deleted = await users.invalidateTags(['team:7'])
  assert.equal(deleted, 1)
  assert.equal(await users.get('user:42'), null)

  // Memoize any function.
  const teamSize = users.wrap(async (teamId) => [...db.users.values()].filter((u) => u.teamId === teamId).length, {
    key: (teamId) => `team-size:${teamId}`,
    ttl: 60_000,
  })
  assert.equal(await teamSize('7'), 1)

  // A near cache: hot entries also kept in this process, so a hit makes no round trip.
  // Redis keeps the copy coherent (key tracking): a write from any process reaches it
  // within the time of one message; a write through this client is seen at once.
  const hot = client.cache('users', { ttl: 3_600_000, nearCache: 10_000 })
  await hot.set('user:42', { id: '42', name: 'Ada' })
  assert.equal((await hot.get('user:42')).name, 'Ada')
  await users.set('user:42', { id: '42', name: 'Ada L.' }) // another handle, same client
  assert.equal((await hot.get('user:42')).name, 'Ada L.')

  await client.close()
  console.log('cache example: ok (cache-aside, stampede, delete-on-write, write-through, tags, wrap, near cache)')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
