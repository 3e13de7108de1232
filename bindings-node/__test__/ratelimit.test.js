'use strict'
// The rate limiter's onError with a paused and then a dead redis-server, within the
// timeout: how the addon's connection fails is Node's own. The rest of the limiter's
// behaviour is tested once for both JS packages in js/test/ratelimit.test.mjs.

const assert = require('node:assert/strict')
const { describe, test } = require('node:test')

const { Client, InvalidArgument, RedkitError, TimeoutError } = require('..')
const { command, prefix, startServer } = require('./server.js')

describe('onError when Redis is slow or dead', () => {
  const TIMEOUT = 300
  // Time allowed past the timeout for the decision to come back (timers, a loaded machine).
  const SLACK = 700

  async function timed(fn) {
    const started = Date.now()
    const value = await fn()
    return { value, took: Date.now() - started }
  }

  function assertCovered(r, allowed, took, ErrorClass) {
    assert.equal(r.allowed, allowed)
    assert.equal(r.reason, 'error')
    assert.equal(r.remaining, 0)
    assert.equal(r.retryAfterMs, 0)
    assert.ok(r.error instanceof ErrorClass, `covered error: ${r.error?.name}: ${r.error?.message}`)
    assert.ok(took < TIMEOUT + SLACK, `decided after ${took} ms`)
  }

  test('a paused server, then a dead one: allow, deny or raise within the timeout', async () => {
    // Own server: pausing and shutting it down must not disturb the other tests.
    const own = await startServer()
    const c = await Client.connect(own.url, { prefix: prefix('down'), timeout: 5_000 })
    try {
      const opts = { limit: 5, window: 1_000, timeout: TIMEOUT }
      const allow = c.rateLimiter('api', { ...opts, onError: 'allow' })
      const deny = c.rateLimiter('api', { ...opts, onError: 'deny' })
      const raise = c.rateLimiter('api', { ...opts, onError: 'raise' })
      assert.equal((await allow.limit('u')).reason, 'limit')

      await command(own.port, 'CLIENT', 'PAUSE', String(TIMEOUT * 6), 'ALL')
      let r = await timed(() => allow.limit('u'))
      assertCovered(r.value, true, r.took, TimeoutError)
      assert.ok(r.took >= TIMEOUT - 20, `gave up after ${r.took} ms`)
      r = await timed(() => deny.limit('u'))
      assertCovered(r.value, false, r.took, TimeoutError)
      const started = Date.now()
      await assert.rejects(raise.limit('u'), TimeoutError)
      assert.ok(Date.now() - started < TIMEOUT + SLACK)
      // Bad input stays an error whatever onError says.
      await assert.rejects(allow.limit('u', { cost: 0 }), InvalidArgument)
      await command(own.port, 'CLIENT', 'UNPAUSE')
      assert.equal((await allow.limit('v')).reason, 'limit')

      await command(own.port, 'SHUTDOWN', 'NOSAVE').catch(() => {})
      r = await timed(() => allow.limit('u'))
      assertCovered(r.value, true, r.took, RedkitError)
      assert.notEqual(r.value.error.code, 'ERR_INVALID_ARGUMENT')
      r = await timed(() => deny.limit('u'))
      assertCovered(r.value, false, r.took, RedkitError)
      await assert.rejects(raise.limit('u'), RedkitError)
    } finally {
      await c.close().catch(() => {})
      await own.stop()
    }
  })
})
