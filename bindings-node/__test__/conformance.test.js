'use strict'
// Replays every language-neutral scenario of conformance/cache/ (see conformance/README.md)
// against a real server. A new op or a new scenario file cannot pass unnoticed: unknown ops
// fail the test.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { after, before, test } = require('node:test')

const { Client, RedkitError } = require('..')
const { prefix, startServer } = require('./server.js')

const DIR = path.join(__dirname, '..', '..', 'conformance', 'cache')
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()

let server
before(async () => {
  server = await startServer()
})
after(async () => {
  await server.stop()
})

test('there are cache scenarios to replay', () => {
  assert.ok(files.length >= 3, `found ${files.length} scenario files in ${DIR}`)
})

function cacheOptions(setup) {
  const opts = {}
  const ms = { ttl_ms: 'ttl', jitter_ms: 'jitter', stale_ttl_ms: 'staleTtl', lock_timeout_ms: 'lockTimeout' }
  for (const [field, name] of Object.entries(ms)) if (field in setup) opts[name] = setup[field]
  if ('early_refresh' in setup) opts.earlyRefresh = setup.early_refresh
  if ('lock' in setup) opts.lock = setup.lock
  if ('near_cache' in setup) opts.nearCache = setup.near_cache
  return opts
}

function writeOptions(step) {
  const opts = {}
  if ('tags' in step) opts.tags = step.tags
  if ('ttl_ms' in step) opts.ttl = step.ttl_ms
  return opts
}

test('Client.embedded() needs no server', async () => {
  const client = await Client.embedded({ prefix: 'emb' })
  const cache = client.cache('c')
  assert.deepEqual(await cache.getOrSet('k', async () => ({ a: 1 })), { a: 1 })
  assert.deepEqual(await cache.get('k'), { a: 1 })
  await client.close()
})

// Every scenario runs on a real server and on the embedded engine: same results.
/** A scenario key: `{"$lone_surrogate": "k"}` is "k" and a lone surrogate (conformance/README.md). */
const text = (v) => (v !== null && typeof v === 'object' && '$lone_surrogate' in v ? `${v.$lone_surrogate}\uD800` : v)

for (const [backend, connect] of [
  ['redis', (opts) => Client.connect(server.url, opts)],
  ['embedded', (opts) => Client.embedded(opts)],
])
for (const file of files) {
  const scenario = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'))
  test(`conformance ${file} on ${backend}: ${scenario.name}`, async () => {
    assert.equal(scenario.pattern, 'cache')
    const client = await connect({ prefix: prefix(`conf-${file}`) })
    const cache = client.cache(scenario.setup.namespace, cacheOptions(scenario.setup))
    let loaderCalls = 0
    const loaderOf = (spec) => {
      if ('returns' in spec) {
        return async () => {
          loaderCalls += 1
          return spec.returns
        }
      }
      if ('throws' in spec) {
        return async () => {
          loaderCalls += 1
          throw new Error(spec.throws)
        }
      }
      throw new Error(`unknown loader ${JSON.stringify(spec)}`)
    }
    const run = {
      get: (s) => cache.get(s.key),
      set: (s) => cache.set(s.key, s.value, writeOptions(s)),
      delete: (s) => cache.delete(...s.keys),
      invalidate_tags: (s) => cache.invalidateTags(s.tags),
      get_or_set: (s) => cache.getOrSet(s.key, loaderOf(s.loader), writeOptions(s)),
      sleep: (s) => new Promise((r) => setTimeout(r, s.ms)),
    }
    try {
      for (const [i, step] of scenario.steps.entries()) {
        const where = `${file} step ${i} (${step.op})`
        assert.ok(run[step.op], `${where}: unknown op`)
        let result
        let error
        try {
          result = await run[step.op]({ ...step, key: text(step.key), keys: step.keys?.map(text) })
        } catch (err) {
          error = err
        }
        if ('error' in step) {
          assert.ok(error, `${where}: expected ${step.error}, got ${JSON.stringify(result)}`)
          if (step.error === 'LoaderError' && step.loader && 'throws' in step.loader) {
            // A JS loader's own error reaches the caller, its message preserved.
            assert.equal(error.message, step.loader.throws, where)
          } else {
            assert.ok(error instanceof RedkitError, `${where}: ${error}`)
            assert.equal(error.name, step.error, `${where}: ${error.message}`)
          }
        } else {
          if (error) throw new assert.AssertionError({ message: `${where}: unexpected ${error.name}: ${error.message}` })
          if ('expect' in step) assert.deepEqual(result === undefined ? null : result, step.expect, where)
        }
        if ('loader_calls' in step) assert.equal(loaderCalls, step.loader_calls, `${where}: loader calls`)
      }
    } finally {
      await client.close()
    }
  })
}
