'use strict'
// The host-callback contract (src/host.rs): the core calls a JS function many times,
// concurrently, with an AbortSignal, and gets each call's result or error, the way a queue
// worker will call its processor.

const assert = require('node:assert/strict')
const { test } = require('node:test')

const { prefix, useServer, withClientAt } = require('./server.js')
const { Client } = require('..')

const server = useServer()

const CALLS = 300
const CONCURRENCY = 32
const CANCEL_EVERY = 3
// Calls from here on wait until the first report was read: the reports must come as calls
// end (a list made at the end would never come).
const LATE = 150

class CancelledByCore extends Error {
  name = 'CancelledByCore'
}

/** Every call reported once, with the outcome its index calls for. */
function checkReports(reports) {
  assert.deepEqual(
    reports.map((r) => r.index).sort((a, b) => a - b),
    Array.from({ length: CALLS }, (_, i) => i),
  )
  for (const r of reports) {
    if (r.index % CANCEL_EVERY === 0) {
      assert.equal(r.cancelled, true, `call ${r.index}`)
      assert.equal(r.error.kind, 'CancelledByCore')
      assert.equal(r.error.message, `call ${r.index} saw the abort`)
    } else if (r.index % CANCEL_EVERY === 1) {
      assert.equal(r.cancelled, false)
      assert.equal(r.error.kind, 'RangeError')
      assert.equal(r.error.message, `bad ${r.index}`)
      // The stack names the function that threw, as a queue would record it.
      assert.match(r.error.trace, /RangeError: bad \d+\n\s+at fn /)
    } else {
      assert.equal(r.cancelled, false)
      assert.equal(r.error, undefined)
      assert.equal(r.value, `ok ${r.index}`)
    }
  }
}

async function hundredsOfCalls(client) {
  let inFlight = 0
  let most = 0
  let firstRead
  const read = new Promise((resolve) => {
    firstRead = resolve
  })
  const fn = async (arg, signal) => {
    assert.ok(Buffer.isBuffer(arg))
    assert.ok(signal instanceof AbortSignal)
    const index = Number(arg.toString())
    inFlight++
    most = Math.max(most, inFlight)
    try {
      if (index % CANCEL_EVERY === 0) {
        if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        throw new CancelledByCore(`call ${index} saw the abort`)
      }
      assert.equal(signal.aborted, false)
      await new Promise((resolve) => setTimeout(resolve, 1))
      if (index % CANCEL_EVERY === 1) throw new RangeError(`bad ${index}`)
      if (index >= LATE) await read
      return `ok ${index}`
    } finally {
      inFlight--
    }
  }
  const reports = []
  const stream = client.__runManyForTests(fn, {
    calls: CALLS,
    concurrency: CONCURRENCY,
    cancelEvery: CANCEL_EVERY,
    cancelAfterMs: 5,
  })
  for await (const report of stream) {
    firstRead()
    reports.push(report)
  }
  checkReports(reports)
  // The calls overlapped, never beyond the concurrency asked for.
  assert.ok(most > 1 && most <= CONCURRENCY, `most in flight: ${most}`)
}

test('a JS function: hundreds of concurrent calls with aborts, every outcome reported', () =>
  withClientAt(server.url, 'host', hundredsOfCalls))

test('the same on the embedded engine', async () => {
  const client = await Client.embedded({ prefix: prefix('host-embedded') })
  try {
    await hundredsOfCalls(client)
  } finally {
    await client.close()
  }
})

test('a result that is neither a string nor a Buffer fails that call', () =>
  withClientAt(server.url, 'host-bad', async (client) => {
    const reports = []
    for await (const r of client.__runManyForTests(() => 42, { calls: 1, concurrency: 1 })) reports.push(r)
    const [report] = reports
    assert.equal(report.value, undefined)
    assert.ok(report.error.message.length > 0)
  }))

test('a loader that throws a non-error: the caller gets what was thrown, a later call loads', () =>
  withClientAt(server.url, 'host-loader', async (client) => {
    const cache = client.cache('c')
    const thrown = new SyntaxError('custom')
    await assert.rejects(
      cache.getOrSet('k', () => {
        throw thrown
      }),
      (err) => err === thrown,
    )
    assert.equal(await cache.getOrSet('k', async () => 'v'), 'v')
    assert.equal(await cache.get('k'), 'v')
  }))
