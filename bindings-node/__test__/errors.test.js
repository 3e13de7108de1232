'use strict'
// Bad input and failures: each is a typed error (an Error subclass with a code), nothing is
// half-written, and nothing crashes the process.

const assert = require('node:assert/strict')
const { after, before, test } = require('node:test')

const redkit = require('..')
const native = require('../index.js')
const { Client, DecodeError, EncodeError, InvalidArgument, RedkitError } = redkit
const { prefix, startServer } = require('./server.js')

let server
let client
before(async () => {
  server = await startServer()
  client = await Client.connect(server.url, { prefix: prefix('errors') })
})
after(async () => {
  await client.close()
  await server.stop()
})

// The classes and their table: js/test/errors.test.mjs (both packages).

const isTyped = (cls, code) => (err) => {
  assert.ok(err instanceof cls, `${err && err.name}: ${err && err.message}`)
  assert.equal(err.code, code)
  return true
}
const invalid = isTyped(InvalidArgument, 'ERR_INVALID_ARGUMENT')
const decode = isTyped(DecodeError, 'ERR_DECODE')
const encode = isTyped(EncodeError, 'ERR_ENCODE')

test('wrong argument types are InvalidArgument', async () => {
  const cache = client.cache('types')
  await assert.rejects(cache.get(42), invalid)
  await assert.rejects(cache.get(undefined), invalid)
  await assert.rejects(cache.get({}), invalid)
  await assert.rejects(cache.set(7, 'v'), invalid)
  await assert.rejects(cache.set('k', 'v', { tags: 'not-a-list' }), invalid)
  await assert.rejects(cache.set('k', 'v', { tags: [1] }), invalid)
  await assert.rejects(cache.set('k', 'v', { ttl: 'soon' }), invalid)
  await assert.rejects(cache.set('k', 'v', { ttl: -5 }), invalid)
  await assert.rejects(cache.set('k', 'v', { ttl: Number.NaN }), invalid)
  await assert.rejects(cache.delete('a', 2), invalid)
  await assert.rejects(cache.invalidateTags('team:7'), invalid)
  await assert.rejects(cache.getOrSet('k', 'not a function'), invalid)
  await assert.rejects(cache.getOrSet('k'), invalid)
  assert.throws(() => cache.wrap('nope'), invalid)
  assert.throws(() => cache.wrap(() => 1), invalid, 'anonymous function without a key')
  await assert.rejects(Client.connect(6379), invalid)
  await assert.rejects(Client.connect(server.url, { timeout: 'fast' }), invalid)
  await assert.rejects(Client.connect(server.url, { timeout: 0 }), invalid)
  await assert.rejects(Client.connect('not a url'), invalid)
  await assert.rejects(Client.connect(server.url, { prefix: 'a{b}' }), invalid)
  assert.throws(() => client.cache(42), invalid)
  assert.throws(() => client.cache('x', { ttl: 0 }), invalid)
  assert.throws(() => client.cache('x', { ttl: -1 }), invalid)
  assert.throws(() => client.cache('x', { earlyRefresh: -1 }), invalid)
  assert.throws(() => client.cache('x', { codec: 'pickle' }), invalid)
  assert.throws(() => client.cache(''), invalid)
  assert.throws(() => new redkit.Client(), invalid)
  assert.throws(() => new redkit.Cache(), invalid)
  // The bytes codec takes Buffers only.
  await assert.rejects(client.cache('b', { codec: 'bytes' }).set('k', 'a string'), invalid)
})

test('empty keys and tags are InvalidArgument and write nothing', async () => {
  const cache = client.cache('empty')
  await assert.rejects(cache.get(''), invalid)
  await assert.rejects(cache.set('', 1), invalid)
  await assert.rejects(cache.set('k', 1, { tags: ['ok', ''] }), invalid)
  assert.equal(await cache.get('k'), null, 'a write with a bad tag stored nothing')
  await assert.rejects(cache.delete('a', ''), invalid)
  await assert.rejects(cache.invalidateTags(['']), invalid)
  let calls = 0
  await assert.rejects(
    cache.getOrSet('', () => {
      calls += 1
      return 1
    }),
    invalid,
  )
  assert.equal(calls, 0, 'the loader did not run for a bad key')
})

test('values that do not serialize are EncodeError and leave the old value', async () => {
  const cache = client.cache('values')
  await cache.set('k', 'old')
  const circular = { name: 'loop' }
  circular.self = circular
  await assert.rejects(cache.set('k', 10n), encode)
  await assert.rejects(cache.set('k', { big: 1n }), encode)
  await assert.rejects(cache.set('k', circular), encode)
  await assert.rejects(cache.set('k', undefined), encode)
  await assert.rejects(cache.set('k', () => 1), encode)
  await assert.rejects(cache.set('k', Symbol('s')), encode)
  assert.equal(await cache.get('k'), 'old')
  // The same from a loader: a typed error, nothing stored.
  await assert.rejects(cache.getOrSet('fromLoader', () => circular), encode)
  await assert.rejects(cache.getOrSet('fromLoader', async () => 5n), encode)
  assert.equal(await cache.get('fromLoader'), null)
})

test('a loader that throws a non-Error surfaces as LoaderError with its text', async () => {
  const cache = client.cache('nonerror')
  await assert.rejects(
    cache.getOrSet('k', () => {
      throw 'plain string' // eslint-disable-line no-throw-literal
    }),
    (err) => err instanceof redkit.LoaderError && err.code === 'ERR_LOADER' && err.message === 'plain string',
  )
  await assert.rejects(cache.getOrSet('k', () => Promise.reject(null)), redkit.LoaderError)
  assert.equal(await cache.get('k'), null)
})

test('a stored value that is not JSON is a DecodeError on read', async () => {
  const cache = client.cache('corrupt', { codec: 'bytes' })
  await cache.set('k', Buffer.from('{not json'))
  // The same entry read through the JSON codec.
  const json = client.cache('corrupt')
  await assert.rejects(json.get('k'), decode)
})

test('an unreachable server is a ConnectionError (or TimeoutError), fast', async () => {
  const started = Date.now()
  await assert.rejects(
    Client.connect('redis://127.0.0.1:1', { connectTimeout: 500, retries: 0 }),
    (err) => err instanceof redkit.ConnectionError || err instanceof redkit.TimeoutError,
  )
  assert.ok(Date.now() - started < 3000)
})

test('a Rust panic is a JS error, never a process abort', async () => {
  assert.throws(() => native.__panicForTests(), /deliberate panic/)
  await assert.rejects(native.__panicInPromiseForTests(), /deliberate panic/)
  // And through the error mapping it is still a RedkitError.
  const mapped = require('../errors.js').fromNative(new Error('boom'))
  assert.ok(mapped instanceof RedkitError)
  await client.ping()
})

test('a caught panic prints nothing to stderr, not even with RUST_BACKTRACE', () => {
  const { spawnSync } = require('node:child_process')
  const script = `
    const native = require(${JSON.stringify(require.resolve('../index.js'))})
    try { native.__panicForTests() } catch (e) { if (!/deliberate panic/.test(e.message)) throw e }
    native.__panicInPromiseForTests().then(() => process.exit(3), (e) => process.exit(/deliberate panic/.test(e.message) ? 0 : 4))
  `
  const child = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, RUST_BACKTRACE: '1' },
    encoding: 'utf8',
  })
  assert.equal(child.status, 0, child.stderr)
  assert.equal(child.stderr, '')
})

test('a plain native function reads its arguments and turns a panic into a JS error', () => {
  const f = native.__functionsForTests()
  assert.throws(() => f.panic(), /deliberate panic \(plain function\)/)
  assert.equal(f.first('a'), 'a')
  // More arguments than the trampoline reads: the extra ones are ignored.
  assert.equal(f.first('a', 'b', 'c', 'd', 'e', 'f'), 'a')
  assert.throws(() => f.first(), /argument 0 is missing/)
  assert.throws(() => f.first(42), /string/i)
  assert.equal(f.second('a'), null)
  assert.equal(f.second('a', undefined), null)
  assert.equal(f.second('a', 'b'), 'b')
})

test('a server that does not answer in time is a TimeoutError', async () => {
  const { command } = require('./server.js')
  const slow = await Client.connect(server.url, { prefix: prefix('timeout'), timeout: 150, retries: 0 })
  const cache = slow.cache('t')
  await cache.set('k', 1)
  assert.match(await command(server.port, 'CLIENT', 'PAUSE', '600', 'ALL'), /^\+OK/)
  const started = Date.now()
  await assert.rejects(cache.get('k'), isTyped(redkit.TimeoutError, 'ERR_TIMEOUT'))
  assert.ok(Date.now() - started < 550, 'failed at the deadline, not when the pause ended')
  await new Promise((r) => setTimeout(r, 600))
  assert.equal(await cache.get('k'), 1, 'the client works again afterwards')
  await slow.close()
})
