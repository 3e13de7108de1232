'use strict'
// The cache's Node specifics, against a real server: the client's prefix, the msgpack codec,
// Buffers, thousands of calls in flight (native batching), process lifetime, reentry through
// AsyncLocalStorage and the embedded engine. The rest of the cache's behaviour is tested once
// for both JS packages in js/test/cache.test.mjs.

const assert = require('node:assert/strict')
const { test } = require('node:test')

const { Client } = require('..')
const { prefix, useServer, withClientAt } = require('./server.js')

const server = useServer()

const withClient = (name, fn) => withClientAt(server.url, name, fn)

test('the client reports its prefix', () =>
  withClient('basics', async (client) => {
    assert.match(client.prefix, /^t-basics-/)
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
