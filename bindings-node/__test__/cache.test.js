'use strict'
// The cache through the public API, against a real server.

const assert = require('node:assert/strict')
const { after, before, test } = require('node:test')

const { Client, Closed } = require('..')
const { command, prefix, startServer, withClientAt } = require('./server.js')

let server
before(async () => {
  server = await startServer()
})
after(async () => {
  await server.stop()
})

const withClient = (name, fn) => withClientAt(server.url, name, fn)

test('connect, ping, check and the prefix', () =>
  withClient('basics', async (client) => {
    await client.ping()
    assert.match(client.prefix, /^t-basics-/)
    const report = await client.check()
    assert.match(report.serverVersion, /^\d+\.\d+/)
    assert.equal(report.persistence, 'none')
    assert.ok(Array.isArray(report.warnings))
  }))

test('JSON values of every shape round-trip', () =>
  withClient('json', async (client) => {
    const cache = client.cache('json', { ttl: 60_000 })
    const values = [0, -1.5, 'text ✓', true, false, [1, 'a', null], { a: { b: [1, { c: 'd' }] } }, '', []]
    for (const [i, v] of values.entries()) {
      await cache.set(`k${i}`, v)
      assert.deepEqual(await cache.get(`k${i}`), v)
    }
    assert.equal(await cache.get('never'), null)
  }))

test('the msgpack codec: values round-trip, stored as the MessagePack Rust and Python write', () =>
  withClient('msgpack', async (client) => {
    const cache = client.cache('mp', { codec: 'msgpack' })
    const value = { a: 1, b: [true, null, 'x'] }
    await cache.set('k', value)
    assert.deepEqual(await cache.get('k'), value)
    // The payload as stored: a fixmap with string keys (rmp-serde's to_vec_named, Python's packb).
    const raw = await client.cache('mp', { codec: 'bytes' }).get('k')
    assert.deepEqual([...raw], [0x82, 0xa1, 0x61, 0x01, 0xa1, 0x62, 0x93, 0xc3, 0xc0, 0xa1, 0x78])
    assert.deepEqual(await cache.getOrSet('loaded', async () => ({ n: [1.5, 'é'] })), { n: [1.5, 'é'] })
    assert.deepEqual(await cache.get('loaded'), { n: [1.5, 'é'] })
    assert.equal(await cache.get('missing'), null)
    // Bytes that are not MessagePack are a DecodeError, not garbage.
    await client.cache('mp', { codec: 'bytes' }).set('bad', Buffer.from([0xc1]))
    await assert.rejects(cache.get('bad'), (err) => err.code === 'ERR_DECODE')
  }))

test('ttl per namespace and per write; entries expire', () =>
  withClient('ttl', async (client) => {
    const cache = client.cache('ttl', { ttl: 60_000, earlyRefresh: 0 })
    await cache.set('short', 1, { ttl: 40 })
    await cache.set('long', 2)
    assert.equal(await cache.get('short'), 1)
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(await cache.get('short'), null)
    assert.equal(await cache.get('long'), 2)
  }))

test('getOrSet takes sync and async loaders, and loads once per key', () =>
  withClient('loaders', async (client) => {
    const cache = client.cache('loaders')
    let calls = 0
    assert.deepEqual(
      await cache.getOrSet('sync', () => {
        calls += 1
        return { via: 'sync' }
      }),
      { via: 'sync' },
    )
    assert.equal(
      await cache.getOrSet('async', async () => {
        calls += 1
        await new Promise((r) => setTimeout(r, 5))
        return 'async'
      }),
      'async',
    )
    assert.deepEqual(await cache.getOrSet('sync', () => 'other'), { via: 'sync' })
    assert.equal(calls, 2)
  }))

test('concurrent misses on one key share one load (stampede protection)', () =>
  withClient('stampede', async (client) => {
    const cache = client.cache('stampede')
    let calls = 0
    const loader = async () => {
      calls += 1
      await new Promise((r) => setTimeout(r, 50))
      return { n: calls }
    }
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('hot', loader)))
    assert.equal(calls, 1)
    for (const r of results) assert.deepEqual(r, { n: 1 })
  }))

test('thousands of operations in flight each settle with their own outcome', () =>
  withClient('many', async (client) => {
    // More than one native call reports at once (1024): the rest come in follow-up calls.
    const cache = client.cache('many', { ttl: 60_000 })
    const n = 5000
    await Promise.all(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : cache.set(`k${i}`, { i }))))
    const got = await Promise.allSettled(
      Array.from({ length: n }, (_, i) => (i % 7 === 3 ? cache.get('') : cache.get(`k${i}`))),
    )
    got.forEach((outcome, i) => {
      if (i % 7 === 3) {
        assert.equal(outcome.status, 'rejected')
        assert.equal(outcome.reason.code, 'ERR_INVALID_ARGUMENT')
      } else {
        assert.equal(outcome.status, 'fulfilled')
        assert.deepEqual(outcome.value, i % 5 === 0 ? null : { i })
      }
    })
  }))

test('a loader that throws reaches the caller as thrown, and nothing is stored', () =>
  withClient('throws', async (client) => {
    const cache = client.cache('throws')
    class DbError extends Error {}
    const thrown = new DbError('database is down')
    await assert.rejects(
      cache.getOrSet('k', async () => {
        throw thrown
      }),
      (err) => err === thrown,
    )
    await assert.rejects(
      cache.getOrSet('k', () => {
        throw new RangeError('sync throw')
      }),
      { name: 'RangeError', message: 'sync throw' },
    )
    assert.equal(await cache.get('k'), null)
    assert.equal(await cache.getOrSet('k', () => 'recovered'), 'recovered')
  }))

test('concurrent callers sharing a failed load all get the error', () =>
  withClient('shared-fail', async (client) => {
    const cache = client.cache('shared-fail')
    const loader = async () => {
      await new Promise((r) => setTimeout(r, 30))
      throw new Error('shared failure')
    }
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => cache.getOrSet('k', loader)))
    for (const r of results) {
      assert.equal(r.status, 'rejected')
      assert.equal(r.reason.message, 'shared failure')
    }
  }))

test('set and getOrSet tags; invalidateTags; delete counts', () =>
  withClient('tags', async (client) => {
    const cache = client.cache('tags')
    await cache.set('a', 1, { tags: ['team:7'] })
    await cache.getOrSet('b', () => 2, { tags: ['team:7', 'org:1'] })
    await cache.set('c', 3, { tags: ['org:1'] })
    assert.equal(await cache.invalidateTags(['team:7']), 2)
    assert.equal(await cache.get('a'), null)
    assert.equal(await cache.get('b'), null)
    assert.equal(await cache.get('c'), 3)
    assert.equal(await cache.delete('c', 'zzz'), 1)
    assert.equal(await cache.delete(), 0)
    assert.equal(await cache.invalidateTags([]), 0)
  }))

test('namespaces are separate, and clients with different prefixes too', () =>
  withClient('ns', async (client) => {
    const a = client.cache('a')
    const b = client.cache('b')
    await a.set('k', 'in a')
    assert.equal(await b.get('k'), null)
    const other = await Client.connect(server.url, { prefix: prefix('ns-other') })
    assert.equal(await other.cache('a').get('k'), null)
    await other.close()
  }))

test('the bytes codec takes and returns Buffers', () =>
  withClient('bytes', async (client) => {
    const cache = client.cache('bytes', { codec: 'bytes' })
    const blob = Buffer.from([0, 1, 2, 255, 0x3a])
    await cache.set('b', blob)
    const got = await cache.get('b')
    assert.ok(Buffer.isBuffer(got))
    assert.deepEqual(got, blob)
    await cache.set('u8', new Uint8Array([7, 8]))
    assert.deepEqual(await cache.get('u8'), Buffer.from([7, 8]))
    const loaded = await cache.getOrSet('l', async () => Buffer.from('loaded'))
    assert.equal(loaded.toString(), 'loaded')
    // Every byte value, on both sides of the size where values stop crossing as latin1 text
    // (src/completion.rs), and empty: each comes back as the same bytes, in a Buffer.
    for (const size of [0, 256, 4095, 4096, 70_000]) {
      const all = Buffer.alloc(size)
      for (let i = 0; i < size; i++) all[i] = (i * 7 + 3) % 256
      await cache.set(`all:${size}`, all)
      const back = await cache.get(`all:${size}`)
      assert.ok(Buffer.isBuffer(back), `${size}`)
      assert.ok(back.equals(all), `${size}`)
      const viaGetOrSet = await cache.getOrSet(`all:${size}`, () => assert.fail('a hit'))
      assert.ok(Buffer.isBuffer(viaGetOrSet) && viaGetOrSet.equals(all), `${size}`)
    }
  }))

test('keys of any length and alphabet are stored under their UTF-8 bytes', () =>
  withClient('keys', async (client) => {
    const cache = client.cache('keys')
    // Every length around the 256-byte buffer keys are read into in one call
    // (src/functions.rs), in one-, two- and four-byte characters, and a NUL.
    const keys = ['a', 'é', '🙂', 'a\0b', 'x'.repeat(5000)]
    for (let bytes = 248; bytes <= 257; bytes++) {
      keys.push('k'.repeat(bytes), 'é'.repeat(bytes >> 1) + 'k'.repeat(bytes & 1), '🙂'.repeat(bytes >> 2) + 'k'.repeat(bytes & 3))
    }
    for (const [i, key] of keys.entries()) {
      await cache.set(key, i)
      const stored = await command(server.port, 'EXISTS', `${client.prefix}:{cache:keys}:k:${key}`)
      assert.equal(stored, ':1\r\n', `key of ${Buffer.byteLength(key)} bytes`)
      assert.equal(await cache.get(key), i)
      assert.equal(await cache.getOrSet(key, () => assert.fail('a hit')), i)
    }
    assert.equal(await cache.delete(...keys), keys.length)
  }))

test('a JSON value written by one client is read by another (shared layout)', () =>
  withClient('shared', async (client) => {
    const writer = client.cache('users')
    await writer.set('user:42', { id: 42 })
    const second = await Client.connect(server.url, { prefix: client.prefix })
    assert.deepEqual(await second.cache('users').get('user:42'), { id: 42 })
    await second.close()
  }))

test('wrap memoizes by the JSON of the arguments or by a key option', () =>
  withClient('wrap', async (client) => {
    const cache = client.cache('wrap')
    let calls = 0
    async function findUser(id, opts) {
      calls += 1
      return { id, verbose: Boolean(opts && opts.verbose) }
    }
    const cached = cache.wrap(findUser, { ttl: 60_000 })
    assert.deepEqual(await cached(1), { id: 1, verbose: false })
    assert.deepEqual(await cached(1), { id: 1, verbose: false })
    assert.deepEqual(await cached(1, { verbose: true }), { id: 1, verbose: true })
    assert.equal(calls, 2)
    const byKey = cache.wrap((id) => ({ id, calls: ++calls }), { key: (id) => `user:${id}`, tags: ['users'] })
    assert.deepEqual(await byKey(5), { id: 5, calls: 3 })
    assert.deepEqual(await cache.get('user:5'), { id: 5, calls: 3 })
    assert.equal(await cache.invalidateTags(['users']), 1)
    assert.deepEqual(await byKey(5), { id: 5, calls: 4 })
    const prefixed = cache.wrap(() => 'p', { key: 'constant' })
    assert.equal(await prefixed(), 'p')
    assert.equal(await cache.get('constant:[]'), 'p')
  }))

test('close makes later calls fail with Closed', async () => {
  const client = await Client.connect(server.url, { prefix: prefix('closed') })
  const cache = client.cache('c')
  await cache.set('k', 1)
  await client.close()
  await assert.rejects(cache.get('k'), Closed)
  await assert.rejects(cache.set('k', 2), Closed)
  await assert.rejects(cache.getOrSet('x', () => 1), Closed)
  await assert.rejects(client.ping(), { name: 'Closed', code: 'ERR_CLOSED' })
})

test('in-flight operations keep the process alive; an idle client does not', async () => {
  const { execFile } = require('node:child_process')
  const script = `
    import { Client } from ${JSON.stringify(require.resolve('../redkit.mjs'))}
    const client = await Client.connect(${JSON.stringify(server.url)}, { prefix: ${JSON.stringify(prefix('alive'))} })
    const cache = client.cache('c')
    await cache.set('k', { ok: true })
    const v = await cache.getOrSet('slow', () => new Promise((r) => setTimeout(() => r('loaded'), 50)).then(() => 'loaded'))
    console.log(JSON.stringify([await cache.get('k'), v]))
    // no close(): the process must still exit on its own
  `
  const started = Date.now()
  const { stdout } = await new Promise((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout }),
    ),
  )
  assert.equal(stdout.trim(), '[{"ok":true},"loaded"]')
  assert.ok(Date.now() - started < 8000)
})

test('the lock gives one loader per key across clients (as across processes)', async () => {
  const shared = prefix('lock')
  const a = await Client.connect(server.url, { prefix: shared })
  const b = await Client.connect(server.url, { prefix: shared })
  try {
    let calls = 0
    const loader = async () => {
      calls += 1
      await new Promise((r) => setTimeout(r, 100))
      return 'once'
    }
    const results = await Promise.all([
      a.cache('users').getOrSet('k', loader),
      b.cache('users').getOrSet('k', loader),
      b.cache('users').getOrSet('k', loader),
    ])
    assert.deepEqual(results, ['once', 'once', 'once'])
    assert.equal(calls, 1)
  } finally {
    await a.close()
    await b.close()
  }
})

test('staleTtl serves the stale value when the loader fails', () =>
  withClient('stale', async (client) => {
    const cache = client.cache('stale', { ttl: 60_000, staleTtl: 30_000, earlyRefresh: 0 })
    await cache.set('k', 'old', { ttl: 30 })
    await new Promise((r) => setTimeout(r, 80))
    assert.equal(await cache.get('k'), null, 'stale entries read as a miss')
    const v = await cache.getOrSet('k', () => {
      throw new Error('database is down')
    })
    assert.equal(v, 'old')
  }))

test('a loader asking for its own key, directly or through A -> B -> A, rejects with InvalidArgument at once', () =>
  withClient('reentry', async (client) => {
    const { InvalidArgument } = require('..')
    const cache = client.cache('r', { lockTimeout: 10_000 })
    const tick = () => new Promise((resolve) => setTimeout(resolve, 5))
    const started = Date.now()
    // Synchronously inside the loader, and after awaits (the context crosses them).
    await assert.rejects(cache.getOrSet('a', () => cache.getOrSet('a', () => 1)), InvalidArgument)
    await assert.rejects(
      cache.getOrSet('a', async () => {
        await tick()
        return cache.getOrSet('a', () => 1)
      }),
      (e) => e instanceof InvalidArgument && /would wait for itself/.test(e.message),
    )
    const b = async () => {
      await tick()
      return cache.getOrSet('b', async () => {
        await tick()
        return cache.getOrSet('a', () => 'never')
      })
    }
    await assert.rejects(cache.getOrSet('a', b), InvalidArgument)
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`)
    // Another key from a loader is fine, and the refused keys load normally afterwards.
    assert.equal(await cache.getOrSet('a', async () => `outer:${await cache.getOrSet('c', () => 'inner')}`), 'outer:inner')
    assert.equal(await cache.getOrSet('b', () => 'b'), 'b')
    // A call the loader leaves running after it ended belongs to no load.
    let late
    assert.equal(await cache.getOrSet('d', () => {
      late = tick().then(() => cache.getOrSet('d', () => 'late'))
      return 'd'
    }), 'd')
    assert.equal(await late, 'd')
  }))

test('Client.embedded() needs no server', async () => {
  const client = await Client.embedded({ prefix: 'emb' })
  const cache = client.cache('c')
  assert.deepEqual(await cache.getOrSet('k', async () => ({ a: 1 })), { a: 1 })
  assert.deepEqual(await cache.get('k'), { a: 1 })
  await client.close()
})
