'use strict'
// The connection (a Node socket driven by the core's hosted transport) against a real
// server that kills the connection, restarts, starts late or refuses the password.

const test = require('node:test')
const assert = require('node:assert/strict')

const redkit = require('../redkit.js')
const { startServer, startTlsServer, freePort, prefix, command } = require('./server.js')

const { Client } = redkit

test('requests survive the server killing the connection', async () => {
  const server = await startServer()
  const client = await Client.connect(server.url, { prefix: prefix('kill') })
  const cache = client.cache('c')
  for (let i = 0; i < 5; i++) {
    assert.match(await command(server.port, 'CLIENT', 'KILL', 'TYPE', 'normal'), /^:[1-9]/)
    await cache.set('k', i)
    assert.equal(await cache.get('k'), i)
  }
  await client.close()
  await server.stop()
})

test('requests in flight retry through a server restart', async () => {
  let server = await startServer()
  const client = await Client.connect(server.url, { prefix: prefix('restart') })
  const limiter = client.rateLimiter('r', { limit: 1_000_000, window: 60_000 })
  const stopAt = Date.now() + 1500
  const worker = (async () => {
    let done = 0
    while (Date.now() < stopAt) {
      const r = await limiter.limit('id')
      assert.equal(r.allowed, true, `decision ${done} failed: ${r.error?.message}`)
      assert.equal(r.error, undefined)
      done++
    }
    return done
  })()
  await new Promise((r) => setTimeout(r, 300))
  const port = server.port
  await server.stop()
  server = await startServer(port)
  const done = await worker
  assert.ok(done > 20, `kept deciding: ${done}`)
  await client.close()
  await server.stop()
})

test('lazyConnect: no connection until the first request, as in Rust and Python', async () => {
  const server = await startServer()
  const client = await Client.connect(server.url, { prefix: prefix('lazy0'), lazyConnect: true })
  await new Promise((r) => setTimeout(r, 100))
  const clients = (list) => list.split('\n').filter((l) => l.startsWith('id=')).length
  assert.equal(clients(await command(server.port, 'CLIENT', 'LIST')), 1, 'only the asking connection')
  await client.ping()
  assert.equal(clients(await command(server.port, 'CLIENT', 'LIST')), 2)
  await client.close()
  await server.stop()
})

test('connect errors say what was wrong: the URL (password masked), the forms, host and port', async () => {
  const { InvalidArgument, ConnectionError, TimeoutError } = redkit
  // napi's own wording ("Failed to convert JavaScript value `Number 5 ` into rust type
  // `String`") was what a wrong type got.
  for (const [url, said] of [[5, 'url must be a string, got a number'], [undefined, 'url must be a string']]) {
    await assert.rejects(Client.connect(url), (e) => e instanceof InvalidArgument && e.message.includes(said) && !/rust|napi/i.test(e.message), String(url))
  }
  await assert.rejects(Client.connect('http://app:s3cret@127.0.0.1:1'), (e) =>
    e instanceof InvalidArgument &&
    e.message.includes('"http://app:****@127.0.0.1:1"') &&
    e.message.includes('unsupported scheme') &&
    e.message.includes('redis://[[user]:password@]host') &&
    !e.message.includes('s3cret'))
  const port = await freePort()
  await assert.rejects(Client.connect(`redis://127.0.0.1:${port}`, { retries: 0 }), (e) =>
    e instanceof ConnectionError && e.message.includes(`127.0.0.1:${port}`))
  // A request that waits in vain for a lazy connection says why it is not there.
  const lazy = await Client.connect(`redis://127.0.0.1:${port}`, { lazyConnect: true, timeout: 300 })
  await assert.rejects(lazy.ping(), (e) =>
    e instanceof TimeoutError && e.message.includes(`127.0.0.1:${port}`) && e.message.includes('ECONNREFUSED'))
  await lazy.close()
})

test('lazyConnect: requests wait for a server that starts later', async () => {
  const port = await freePort()
  const client = await Client.connect(`redis://127.0.0.1:${port}`, { prefix: prefix('lazy'), lazyConnect: true, timeout: 5000 })
  const cache = client.cache('c')
  const pending = cache.set('k', 'late').then(() => cache.get('k'))
  await new Promise((r) => setTimeout(r, 200))
  const server = await startServer(port)
  assert.equal(await pending, 'late')
  await client.close()
  await server.stop()
})

test('the user, password and db come from the URL; a wrong password fails connect', async () => {
  const server = await startServer()
  assert.match(await command(server.port, 'ACL', 'SETUSER', 'app', 'on', '>s3cret', '~*', '+@all'), /^\+OK/)
  const client = await Client.connect(`redis://app:s3cret@127.0.0.1:${server.port}/3`, { prefix: prefix('acl') })
  await client.ping()
  const list = await command(server.port, 'CLIENT', 'LIST')
  assert.match(list, /user=app .*db=3|db=3 .*user=app/)
  await assert.rejects(
    Client.connect(`redis://app:nope@127.0.0.1:${server.port}/3`, { prefix: prefix('acl'), retries: 0 }),
    // The native error's kind marker (\u0001ERR_CONNECTION\u0001) used to reach the message,
    // printed as "cannot connect: ERR_CONNECTIONconnection error: ...".
    (err) => err instanceof redkit.ConnectionError && /WRONGPASS|invalid/i.test(err.message) && !/\u0001|ERR_[A-Z]/.test(err.message),
  )
  await client.close()
  await server.stop()
})

test('a dead server fails requests within the deadline, and the client recovers', async () => {
  let server = await startServer()
  const client = await Client.connect(server.url, { prefix: prefix('dead'), timeout: 600 })
  const cache = client.cache('c')
  await cache.set('k', 1)
  const port = server.port
  await server.stop()
  const started = Date.now()
  await assert.rejects(cache.get('k'), (err) => err instanceof redkit.ConnectionError || err instanceof redkit.TimeoutError)
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`)
  server = await startServer(port)
  // The data is gone with the old server, but the connection comes back.
  let value
  for (let i = 0; i < 50 && value === undefined; i++) {
    value = await cache.get('k').catch(() => undefined)
    if (value === undefined) await new Promise((r) => setTimeout(r, 100))
  }
  assert.equal(value, null)
  await client.close()
  await server.stop()
})

test('close rejects the requests still waiting with Closed', async () => {
  const server = await startServer()
  const client = await Client.connect(server.url, { prefix: prefix('close') })
  const cache = client.cache('c')
  assert.match(await command(server.port, 'CLIENT', 'PAUSE', '300', 'ALL'), /^\+OK/)
  const waiting = cache.get('k')
  await client.close()
  await assert.rejects(waiting, (err) => err instanceof redkit.Closed)
  await assert.rejects(cache.get('k'), (err) => err instanceof redkit.Closed)
  await server.stop()
})

test('rediss:// speaks TLS; an unverifiable certificate fails connect unless #insecure', async () => {
  const server = await startTlsServer()
  const url = `rediss://127.0.0.1:${server.tlsPort}`
  const client = await Client.connect(`${url}/#insecure`, { prefix: prefix('tls') })
  const cache = client.cache('c')
  await cache.set('k', 'over tls')
  assert.equal(await cache.get('k'), 'over tls')
  const list = await command(server.port, 'CLIENT', 'LIST')
  assert.ok(list.includes(`laddr=127.0.0.1:${server.tlsPort}`), list)
  await assert.rejects(
    Client.connect(url, { prefix: prefix('tls'), retries: 0 }),
    (err) => err instanceof redkit.ConnectionError && /self.signed|certificate/i.test(err.message),
  )
  await client.close()
  await server.stop()
})

test('large values cross in many socket chunks, intact', async () => {
  const server = await startServer()
  const client = await Client.connect(server.url, { prefix: prefix('large') })
  const cache = client.cache('c', { codec: 'bytes' })
  const big = Buffer.alloc(5 * 1024 * 1024)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff
  await cache.set('big', big)
  const [a, b] = await Promise.all([cache.get('big'), cache.get('big')])
  assert.ok(big.equals(a) && big.equals(b))
  await client.close()
  await server.stop()
})

test('redis+unix:// connects through a Unix socket', async () => {
  const os = require('node:os')
  const path = require('node:path')
  const sock = path.join(os.tmpdir(), `redkit-${process.pid}.sock`)
  const server = await startServer(undefined, ['--unixsocket', sock])
  const client = await Client.connect(`redis+unix://${sock}`, { prefix: prefix('unix') })
  const cache = client.cache('c')
  await cache.set('k', 'via unix')
  assert.equal(await cache.get('k'), 'via unix')
  await client.close()
  await server.stop()
})
