'use strict'
// The near cache (`client.cache(ns, { nearCache: N })`) against a real server: a hit from
// process memory sends nothing to Redis; every change made elsewhere reaches it; this
// process's own writes are seen at once; losing the tracking connection never leaves an old
// copy served; bad sizes are InvalidArgument; the process still exits on its own.
//
// Whether a read reached Redis is counted with INFO commandstats (this file's server runs
// nothing else). The store goes live asynchronously (once Redis confirms the tracking), so
// the tests poll with deadlines rather than sleeping.

const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const net = require('node:net')
const { test } = require('node:test')
const { isDeepStrictEqual } = require('node:util')

const { Client, Closed, InvalidArgument } = require('..')
const { prefix, useServer, withClientAt } = require('./server.js')

/** Longest a change may take to reach the near cache, or its tracking to come (back) up. */
const SETTLE_MS = 3000

const server = useServer()

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Send one command on a fresh connection and resolve to its whole reply as text (a bulk
 * string's content, or a simple line): INFO and CLIENT LIST may take more than one read.
 */
function redis(...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1')
    const payload = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')
    let data = Buffer.alloc(0)
    const done = (reply) => {
      sock.destroy()
      resolve(reply)
    }
    sock.on('connect', () => sock.write(payload))
    sock.on('data', (chunk) => {
      data = Buffer.concat([data, chunk])
      const eol = data.indexOf('\r\n')
      if (eol < 0) return
      if (data[0] !== 0x24 /* $ */) return done(data.subarray(0, eol).toString())
      const len = Number(data.subarray(1, eol).toString())
      if (len < 0) return done(null)
      if (data.length >= eol + 2 + len + 2) done(data.subarray(eol + 2, eol + 2 + len).toString())
    })
    sock.on('error', reject)
    sock.on('close', () => reject(new Error(`no whole reply to ${args.join(' ')}`)))
  })
}

/** How many times the server has run each command so far (INFO commandstats). */
async function commandCalls() {
  const calls = {}
  for (const [, name, n] of (await redis('INFO', 'commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),/gm)) {
    calls[name] = Number(n)
  }
  return calls
}

/**
 * Run `fn`; resolves to its value, the GETs it sent, and every command it sent (INFO, and
 * PING — the tracking connection's health check every second — left out).
 */
async function counting(fn) {
  const total = (calls) =>
    Object.entries(calls)
      .filter(([name]) => name !== 'info' && name !== 'ping')
      .reduce((sum, [, n]) => sum + n, 0)
  const before = await commandCalls()
  const value = await fn()
  const afterwards = await commandCalls()
  return { value, gets: (afterwards.get ?? 0) - (before.get ?? 0), sent: total(afterwards) - total(before) }
}

/** Poll until `check()` resolves truthy, failing after SETTLE_MS. */
async function eventually(what, check) {
  const deadline = Date.now() + SETTLE_MS
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${SETTLE_MS} ms`)
    await sleep(5)
  }
}

/**
 * Poll until `read()` resolves to `expected` without a GET reaching Redis: the near cache
 * is live and holds the entry. Never holds without a near cache.
 */
async function untilFromMemory(what, read, expected) {
  const deadline = Date.now() + SETTLE_MS
  for (;;) {
    const { value, gets } = await counting(read)
    if (gets === 0 && isDeepStrictEqual(value, expected)) return
    if (Date.now() > deadline) {
      assert.fail(`${what}: not served from memory within ${SETTLE_MS} ms (last read ${JSON.stringify(value)} sent ${gets} GET)`)
    }
    await sleep(5)
  }
}

/** The ids of the server's connections that track in broadcast mode (flag `B`). */
async function trackingIds() {
  const list = await redis('CLIENT', 'LIST')
  return list
    .split('\n')
    .filter((line) => / flags=\S*B/.test(line))
    .map((line) => /^id=(\d+)/.exec(line)[1])
}

const withClient = (name, fn) => withClientAt(server.url, name, fn)

/** `here` (with the near cache) and `there`, another client on the same keys (without). */
async function withPair(name, fn) {
  const shared = prefix(name)
  const here = await Client.connect(server.url, { prefix: shared })
  const there = await Client.connect(server.url, { prefix: shared })
  try {
    await fn(here, there)
  } finally {
    await here.close()
    await there.close()
  }
}

const invalid = (err) => {
  assert.ok(err instanceof InvalidArgument, `${err && err.name}: ${err && err.message}`)
  assert.equal(err.code, 'ERR_INVALID_ARGUMENT')
  return true
}

test('a hit from memory sends nothing to Redis: 100 gets and getOrSet hits, no GET', () =>
  withClient('hit', async (client) => {
    const near = client.cache('users', { nearCache: 100 })
    await near.set('a', { id: 1 })
    await untilFromMemory('the first reads fill it', () => near.get('a'), { id: 1 })
    let loads = 0
    const { gets, sent } = await counting(async () => {
      for (let i = 0; i < 100; i++) {
        assert.deepEqual(await near.get('a'), { id: 1 })
        const got = await near.getOrSet('a', () => {
          loads += 1
          return 'loaded'
        })
        assert.deepEqual(got, { id: 1 })
      }
    })
    assert.equal(loads, 0, 'getOrSet hits ran the loader')
    assert.equal(gets, 0, 'hits sent GETs to Redis')
    assert.equal(sent, 0, 'hits sent commands to Redis')

    // The count does see reads that reach Redis: the same namespace without a near cache.
    const plain = client.cache('users')
    const control = await counting(async () => {
      for (let i = 0; i < 10; i++) assert.deepEqual(await plain.get('a'), { id: 1 })
    })
    assert.equal(control.gets, 10)

    // A value getOrSet loaded is served from memory too, once a read has filled it.
    assert.equal(await near.getOrSet('b', () => 7), 7)
    await untilFromMemory('a loaded value', () => near.getOrSet('b', () => assert.fail('a hit')), 7)
  }))

test('every change made elsewhere reaches it: set, delete, invalidateTags, raw SET, PEXPIRE, FLUSHALL', () =>
  withPair('elsewhere', async (here, there) => {
    const near = here.cache('users', { nearCache: 100 })
    const other = there.cache('users')
    const entryKey = `${here.prefix}:{cache:users}:k:a`
    // Each step: another client writes `v`, the near copy serves it from memory, then the
    // key changes elsewhere and the near client must see the change.
    const fill = async (v) => {
      await other.set('a', v, { tags: ['t'] })
      await untilFromMemory(`the write of ${v} is read`, () => near.get('a'), v)
    }
    const seen = (what, expected) => eventually(what, async () => isDeepStrictEqual(await near.get('a'), expected))

    await fill(1)
    await other.set('a', 2)
    await seen("another client's set", 2)

    await fill(3)
    assert.equal(await other.delete('a'), 1)
    await seen("another client's delete", null)

    await fill(4)
    assert.equal(await other.invalidateTags(['t']), 1)
    await seen("another client's invalidateTags", null)

    await fill(5)
    assert.equal(await redis('SET', entryKey, 'not a redkit entry'), '+OK')
    await seen('a raw SET of a foreign value (reads as a miss)', null)

    await fill(6)
    // The PEXPIRE itself is a change; the copy read after it must go when the key expires.
    assert.equal(await redis('PEXPIRE', entryKey, '500'), ':1')
    await untilFromMemory('read again before it expires', () => near.get('a'), 6)
    await seen('expiry', null)
    assert.equal(await redis('EXISTS', entryKey), ':0')

    await fill(7)
    assert.equal(await redis('FLUSHALL'), '+OK')
    await seen('FLUSHALL', null)

    // Still following afterwards.
    await fill(8)
  }))

test('writes through the same client are seen at once: set, delete, invalidateTags, getOrSet, any handle', () =>
  withClient('own', async (client) => {
    const near = client.cache('users', { nearCache: 100 })
    // Another handle on the same namespace and client shares the same in-process copy.
    const twin = client.cache('users', { nearCache: 100 })
    const inMemory = (v) => untilFromMemory(`holds ${v}`, () => near.get('a'), v)
    await near.set('a', 0, { tags: ['t'] })
    await inMemory(0)
    for (let round = 1; round <= 20; round++) {
      await near.set('a', round, { tags: ['t'] })
      assert.equal(await near.get('a'), round, `set, round ${round}`)
      await inMemory(round)
      await near.delete('a')
      assert.equal(await near.get('a'), null, `delete, round ${round}`)

      await near.set('a', -round, { tags: ['t'] })
      await inMemory(-round)
      await near.invalidateTags(['t'])
      assert.equal(await near.get('a'), null, `invalidateTags, round ${round}`)

      await twin.set('a', round * 10, { tags: ['t'] })
      assert.equal(await near.get('a'), round * 10, `set through another handle, round ${round}`)
      await inMemory(round * 10)
      await near.delete('a')
      assert.equal(await near.getOrSet('a', () => round * 100), round * 100, `getOrSet, round ${round}`)
      assert.equal(await near.get('a'), round * 100, `read after getOrSet, round ${round}`)
      await inMemory(round * 100)
      await twin.delete('a')
      assert.equal(await near.get('a'), null, `delete through another handle, round ${round}`)
    }

    // invalidateTags cannot drop the entries itself (only Redis knows which went): it
    // returns once their invalidations have arrived. Repeated, as a late one shows only
    // now and then.
    for (let i = 0; i < 30; i++) {
      await near.set('b', i, { tags: ['u'] })
      await untilFromMemory(`holds b = ${i}`, () => near.get('b'), i)
      assert.equal(await near.invalidateTags(['u']), 1)
      assert.equal(await near.get('b'), null, `invalidateTags, try ${i}`)
    }

    // A handle of the namespace without a near cache writes through the same client: its
    // writes drop the copy too (before, an invalidation arriving after the write's reply
    // left the old value readable here in 2 to 28 % of tries).
    const plain = client.cache('users')
    for (let i = 1; i <= 200; i++) {
      await near.set('d', i, { tags: ['v'] })
      await untilFromMemory(`holds d = ${i}`, () => near.get('d'), i)
      await plain.set('d', -i, { tags: ['v'] })
      assert.equal(await near.get('d'), -i, `set through a plain handle, try ${i}`)
      await untilFromMemory(`holds d = ${-i}`, () => near.get('d'), -i)
      await plain.invalidateTags(['v'])
      assert.equal(await near.get('d'), null, `invalidateTags through a plain handle, try ${i}`)
    }

    // A read in flight when this process writes the key: its reply (the old value) is
    // returned to its caller but not kept.
    for (let i = 0; i < 5; i++) {
      await near.set('c', 'old')
      const [read] = await Promise.all([near.get('c'), near.set('c', 'new')])
      assert.equal(read, 'old', 'the read was sent before the write')
      assert.equal(await near.get('c'), 'new', `a read overlapping a write was kept, try ${i}`)
      await untilFromMemory('holds c', () => near.get('c'), 'new')
    }
  }))

test('losing the tracking connection serves no old copy while it is down, and it recovers', async () => {
  // The near client logs in as its own user, so that its tracking connection can be kept
  // from coming back (a changed password) while its data connection stays up.
  assert.equal(await redis('ACL', 'SETUSER', 'near', 'on', '>pw', '~*', '&*', '+@all'), '+OK')
  const shared = prefix('kill')
  const here = await Client.connect(`redis://near:pw@127.0.0.1:${server.port}`, { prefix: shared, retryBackoffMax: 100 })
  const there = await Client.connect(server.url, { prefix: shared })
  try {
    const near = here.cache('users', { nearCache: 100 })
    const other = there.cache('users')
    await other.set('a', 1)
    await untilFromMemory('filled', () => near.get('a'), 1)
    // Connections of clients closed by earlier tests go asynchronously.
    await eventually('one tracking connection (ours)', async () => (await trackingIds()).length === 1)
    assert.equal(await redis('ACL', 'SETUSER', 'near', 'resetpass', '>changed'), '+OK')
    // Every connection older than this id may have logged in with the old password: one
    // the client opened again around the count above (a health PING that went unanswered
    // on a loaded machine) would stay up, and may turn tracking on only after a first look.
    // So each tracking connection older than the fence is killed until none shows up for
    // a while; a newer one cannot log in, which is what the test is about.
    const fence = Number((await redis('CLIENT', 'ID')).slice(1)) // ':<id>'
    const alive = []
    for (let quiet = 0, deadline = Date.now() + 10_000; quiet < 3; ) {
      assert.ok(Date.now() < deadline, 'tracking connections from before the change keep coming')
      const old = (await trackingIds()).filter((id) => Number(id) < fence)
      for (const id of old) await redis('CLIENT', 'KILL', 'ID', id)
      alive.push(...old)
      quiet = old.length === 0 ? quiet + 1 : 0
      await sleep(100)
    }
    assert.ok(alive.length > 0, 'a tracking connection to kill')

    // Redis never announces this change: the copy of 1 must go once the loss is noticed.
    const changed = Date.now()
    await other.set('a', 2)
    await eventually('the change made right after the kill is read', async () => (await near.get('a')) === 2)
    const noticedMs = Date.now() - changed
    assert.ok(noticedMs < 1000, `the loss took ${noticedMs} ms to notice (the health PING, not the disconnect)`)

    // While no tracking connection can come back, every read goes to Redis, and a change
    // is read at once.
    for (let v = 3; v < 8; v++) {
      await other.set('a', v)
      const read = await counting(() => near.get('a'))
      assert.deepEqual([read.value, read.gets], [v, 1], 'a read while tracking is down')
      await sleep(40)
    }
    assert.deepEqual(await trackingIds(), [], 'a tracking connection logged in with the old password')

    // Back: a new tracking connection, hits stop reaching Redis again...
    assert.equal(await redis('ACL', 'SETUSER', 'near', 'resetpass', '>pw'), '+OK')
    await untilFromMemory('live again', () => near.get('a'), 7)
    const now = await trackingIds()
    assert.equal(now.length, 1)
    assert.ok(!alive.includes(now[0]), 'a new tracking connection')
    const { gets } = await counting(async () => {
      for (let i = 0; i < 50; i++) assert.equal(await near.get('a'), 7)
    })
    assert.equal(gets, 0)
    // ...and it follows changes made elsewhere again.
    await other.set('a', 8)
    await eventually('a change after the reconnect', async () => (await near.get('a')) === 8)
    await untilFromMemory('holds the new value', () => near.get('a'), 8)
  } finally {
    await here.close()
    await there.close()
  }
})

test('wrap on a near cache: repeated calls run neither fn nor a GET', () =>
  withClient('wrap', async (client) => {
    const cache = client.cache('wrap', { nearCache: 100 })
    let calls = 0
    const findUser = cache.wrap(
      async function findUser(id) {
        calls += 1
        return { id, name: `user ${id}` }
      },
      { ttl: 60_000, tags: ['users'] },
    )
    const user = { id: 7, name: 'user 7' }
    assert.deepEqual(await findUser(7), user)
    assert.equal(calls, 1)
    await untilFromMemory('the wrapped result', () => findUser(7), user)
    const { sent } = await counting(async () => {
      for (let i = 0; i < 100; i++) assert.deepEqual(await findUser(7), user)
    })
    assert.equal(sent, 0, 'repeated calls reached Redis')
    assert.equal(calls, 1, 'repeated calls ran fn')
    // Invalidating the tag in this process: the next call runs fn again, at once.
    assert.equal(await cache.invalidateTags(['users']), 1)
    assert.deepEqual(await findUser(7), user)
    assert.equal(calls, 2)
  }))

test('nearCache takes a whole number >= 0; 0 is a plain cache; the size bounds the copy', () =>
  withClient('sizes', async (client) => {
    // Connections of clients closed by earlier tests go asynchronously.
    await eventually('no tracking connection left', async () => (await trackingIds()).length === 0)
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 40, Infinity, 2 ** 32]) {
      assert.throws(() => client.cache('bad', { nearCache: bad }), invalid, String(bad))
    }
    assert.throws(() => client.cache('bad', { nearCache: -1 }), /nearCache must be a whole number from 0 to 4294967295, got -1/)
    // A string (even of digits) is the wrong type: InvalidArgument, naming the option, as
    // for every option of the wrong type (the core reads every option).
    assert.throws(() => client.cache('bad', { nearCache: '10' }), (err) => invalid(err) && /nearCache/.test(String(err)))
    assert.throws(() => client.cache('bad', { nearCache: true }), invalid)

    // 0 and absent: every read goes to Redis, and no tracking connection is opened.
    for (const opts of [{ nearCache: 0 }, {}]) {
      const plain = client.cache('plain', opts)
      await plain.set('a', 1)
      const { gets } = await counting(async () => {
        for (let i = 0; i < 20; i++) assert.equal(await plain.get('a'), 1)
      })
      assert.equal(gets, 20, JSON.stringify(opts))
    }
    await sleep(50)
    assert.deepEqual(await trackingIds(), [], 'a tracking connection without a near cache')

    // One entry at most: reading another key evicts the first.
    const one = client.cache('one', { nearCache: 1 })
    await one.set('a', 'A')
    await one.set('b', 'B')
    await untilFromMemory('a', () => one.get('a'), 'A')
    assert.equal((await trackingIds()).length, 1)
    assert.equal((await counting(() => one.get('b'))).gets, 1, 'b was never read')
    assert.equal((await counting(() => one.get('b'))).gets, 0, 'b is held')
    const evicted = await counting(() => one.get('a'))
    assert.deepEqual([evicted.value, evicted.gets], ['A', 1], 'a was evicted for b')
  }))

test('close ends the tracking connection; the process exits on its own, closed or not', async () => {
  const client = await Client.connect(server.url, { prefix: prefix('close') })
  const near = client.cache('c', { nearCache: 10 })
  await near.set('k', 1)
  await untilFromMemory('filled', () => near.get('k'), 1)
  assert.equal((await trackingIds()).length, 1)
  await client.close()
  await assert.rejects(near.get('k'), Closed, 'a hit from memory after close')
  await eventually('the tracking connection is closed', async () => (await trackingIds()).length === 0)

  // Child processes, one at a time: a near cache closed, a near cache never closed, and
  // (to compare) a plain cache never closed. A near child waits until its tracking
  // connection is up; each must print its value and exit by itself.
  const child = (name, opts, close) => {
    const script = `
      const { Client } = require(${JSON.stringify(require.resolve('..'))})
      const { command } = require(${JSON.stringify(require.resolve('./server.js'))})
      ;(async () => {
        const client = await Client.connect(${JSON.stringify(server.url)}, { prefix: ${JSON.stringify(prefix(name))} })
        const cache = client.cache('c', ${JSON.stringify(opts)})
        await cache.set('k', { ok: true })
        const deadline = Date.now() + 3000
        while (${opts.nearCache > 0} && !/ flags=\\S*B/.test(await command(${server.port}, 'CLIENT', 'LIST'))) {
          if (Date.now() > deadline) throw new Error('no tracking connection')
          await new Promise((r) => setTimeout(r, 5))
        }
        for (let i = 0; i < 20; i++) await cache.get('k')
        console.log(JSON.stringify(await cache.get('k')))
        ${close ? 'await client.close()' : '// no close()'}
      })().catch((err) => { console.error(err); process.exit(1) })`
    const started = Date.now()
    return new Promise((resolve) =>
      execFile(process.execPath, ['-e', script], { timeout: 8000 }, (err, stdout, stderr) =>
        resolve({ name, err, stdout: stdout.trim(), stderr, ms: Date.now() - started }),
      ),
    )
  }
  for (const [name, opts, close] of [
    ['near-closed', { nearCache: 10 }, true],
    ['near-open', { nearCache: 10 }, false],
    ['plain-open', {}, false],
  ]) {
    const run = await child(name, opts, close)
    assert.equal(run.err, null, `${name}: ${run.err && (run.err.killed ? 'did not exit within 8 s' : run.err.message)}\n${run.stderr}`)
    assert.equal(run.stdout, '{"ok":true}', name)
    assert.ok(run.ms < 5000, `${name} took ${run.ms} ms to exit`)
    await eventually(`${name}: its tracking connection is gone`, async () => (await trackingIds()).length === 0)
  }
})

test('the tracking connection is a Node socket: a Node process has one network stack', async () => {
  // Count the sockets the client opens (link.js connects with an options object; this
  // file's own `redis()` helper with a port).
  const opened = []
  const connect = net.connect
  net.connect = function (...args) {
    if (typeof args[0] === 'object') opened.push(args[0])
    return connect.apply(this, args)
  }
  try {
    await withClient('stack', async (client) => {
      assert.equal(opened.length, 1, 'the client connection')
      const near = client.cache('c', { nearCache: 10 })
      await near.set('k', 1)
      await untilFromMemory('filled', () => near.get('k'), 1)
      // Live means Redis confirmed the tracking, over a socket Node opened.
      assert.equal((await trackingIds()).length, 1)
      assert.equal(opened.length, 2, 'the tracking connection is a Node socket')
      assert.equal(opened[1].port, server.port)
    })
  } finally {
    net.connect = connect
  }
  await eventually('the tracking connection is closed', async () => (await trackingIds()).length === 0)
})
