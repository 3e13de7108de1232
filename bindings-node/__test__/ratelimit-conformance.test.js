'use strict'
// Replays every language-neutral scenario of conformance/ratelimit/ (see
// conformance/README.md) against a real server: the same numbers as the Rust, Python and
// edge runtimes. Unknown ops and unknown setup fields fail the test.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { after, before, test } = require('node:test')

const { Client } = require('..')
const { prefix, startServer } = require('./server.js')

const DIR = path.join(__dirname, '..', '..', 'conformance', 'ratelimit')
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()

let server
before(async () => {
  server = await startServer()
})
after(async () => {
  await server.stop()
})

test('there are rate limit scenarios to replay', () => {
  assert.ok(files.length >= 10, `found ${files.length} scenario files in ${DIR}`)
})

/** The scenario's snake_case setup as `client.rateLimiter` options. */
function limiterOptions(setup) {
  const names = {
    limit: 'limit', window_ms: 'window', algorithm: 'algorithm', burst: 'burst', count_denied: 'countDenied',
    on_error: 'onError', timeout_ms: 'timeout', local_block: 'localBlock', clock: 'clock',
  }
  const o = {}
  for (const [k, v] of Object.entries(setup)) {
    if (k === 'name') continue
    if (k === 'extra_limits') {
      o.limits = v.map((r) => ({ limit: r.limit, window: r.window_ms, burst: r.burst }))
      continue
    }
    assert.ok(k in names, `unknown setup field ${k}`)
    o[names[k]] = v
  }
  return o
}

/** A result in the scenarios' snake_case. */
const snake = (r) => ({
  allowed: r.allowed,
  limit: r.limit,
  remaining: r.remaining,
  reset_after_ms: r.resetAfterMs,
  retry_after_ms: r.retryAfterMs,
  reason: r.reason,
})

// Every scenario runs on a real server and on the embedded engine: same numbers.
for (const [backend, connect] of [
  ['redis', (opts) => Client.connect(server.url, opts)],
  ['embedded', (opts) => Client.embedded(opts)],
])
for (const file of files) {
  const scenario = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'))
  test(`conformance ${file} on ${backend}: ${scenario.name}`, async () => {
    assert.equal(scenario.pattern, 'ratelimit')
    const client = await connect({ prefix: prefix(`rl-${file}`) })
    const build = (setup) => client.rateLimiter(setup.name ?? 'conformance', limiterOptions(setup))
    try {
      const limiter = build(scenario.setup)
      for (const [i, step] of scenario.steps.entries()) {
        const where = `${file} step ${i} (${step.op})`
        const act = async () => {
          switch (step.op) {
            case 'limit':
              return snake(await limiter.limit(step.identifier, { cost: step.cost, nowMs: step.now_ms }))
            case 'peek':
              return snake(await limiter.peek(step.identifier, { nowMs: step.now_ms }))
            case 'reset':
              return limiter.reset(step.identifier).then(() => null)
            case 'sleep':
              return new Promise((r) => setTimeout(() => r(null), step.ms))
            case 'build':
              build({ ...scenario.setup, ...step.options })
              return null
            default:
              throw new Error(`${where}: unknown op`)
          }
        }
        if (step.error !== undefined) {
          const err = await act().then(
            (v) => assert.fail(`${where}: expected ${step.error}, got ${JSON.stringify(v)}`),
            (e) => e,
          )
          assert.equal(err.name, step.error, `${where}: ${err}`)
          assert.equal(err.code, 'ERR_INVALID_ARGUMENT', where)
        } else {
          const got = await act()
          if (step.expect !== null && typeof step.expect === 'object') {
            // Only the listed fields are compared (time-dependent ones may be left out).
            const picked = Object.fromEntries(Object.keys(step.expect).map((k) => [k, got?.[k]]))
            assert.deepEqual(picked, step.expect, where)
          } else if ('expect' in step) {
            assert.deepEqual(got, step.expect, where)
          }
        }
      }
    } finally {
      await client.close()
    }
  })
}
