// Replays every conformance/queue/*.json scenario (conformance/README.md, "Queue ops"), as
// core/tests/conformance_queue.rs does in Rust, through either JS package. Job options go
// through the public API with the scenarios' snake_case names turned into JS camelCase
// (durations are ms in both). Unknown ops fail the test.
//
// Node (a real server and the embedded engine): every step; the ops a worker makes (`take`,
// `complete`, `fail`, `run_all`, `maintain`) and the pure computations (`backoff`,
// `next_slots`) go through the addon's test hooks over the same core calls.
//
// Edge (REST through the gateway, and the adapter): the edge produces and inspects and has
// no worker and no schedulers, so each scenario is replayed up to its first worker or
// scheduler step (what follows depends on it) and the pure computations, which change no
// queue state, are passed over; each skipped part is reported as the test's diagnostic.
// What the edge replays: every add, add_bulk, state, counts, get_job, get_jobs, pause,
// resume, is_paused, promote, drain and retry_jobs step before that point.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { allTransports, api, backendName, prefix, useBackend } from './harness.mjs';

const require = createRequire(import.meta.url);
const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'conformance', 'queue');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
/** Steps that need a worker or schedulers: the edge stops replaying there. */
const WORKER_OPS = new Set(['take', 'complete', 'fail', 'run_all', 'maintain', 'upsert_scheduler', 'remove_scheduler', 'schedulers']);
/** Pure computations (no queue state) the edge has no hook for: passed over. */
const PURE_OPS = new Set(['backoff', 'next_slots']);

const backend = useBackend();

test('there are queue scenarios to replay', () => {
  assert.ok(files.length >= 5, `found ${files.length} scenario files in ${DIR}`);
});

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
const renamed = (obj, rename) => (obj == null ? obj : Object.fromEntries(Object.entries(obj).map(([k, v]) => [rename(k), v])))

/** A scenario's job options as Node takes them: BullMQ's camelCase names, the same units. */
const jsOpts = (opts) => renamed(opts, camel)

/** A Node job as the scenarios name its fields. */
function jobFields(job) {
  if (job === null) return null
  return {
    id: job.id,
    name: job.name,
    data: job.data,
    opts: renamed(job.opts, snake),
    attempts_made: job.attemptsMade,
    failed_reason: job.failedReason,
    return_value: job.returnValue,
    progress: job.progress,
  }
}

/** Every field `expect` names is equal in `got` (objects by subset, lists element-wise). */
function matches(expect, got) {
  if (expect !== null && typeof expect === 'object' && !Array.isArray(expect)) {
    return got !== null && typeof got === 'object' && Object.entries(expect).every(([k, v]) => k in got && matches(v, got[k]))
  }
  if (Array.isArray(expect)) {
    return Array.isArray(got) && expect.length === got.length && expect.every((v, i) => matches(v, got[i]))
  }
  return expect === got
}

class Replay {
  #taken = null

  constructor(queue) {
    this.q = queue
    this.hooks = backendName === 'node' ? queue.__replayHooks() : null
  }

  async take() {
    const taken = await this.hooks.take()
    if (taken === null) return null
    this.#taken = { id: taken.job.id, token: taken.token }
    return jobFields(taken.job)
  }

  finish(outcome, value, reason) {
    assert.ok(this.#taken !== null, 'a step before took a job')
    const { id, token } = this.#taken
    this.#taken = null
    return this.hooks.finish(id, token, { outcome, value: value ?? null, reason: reason ?? '' })
  }

  async step(step) {
    const q = this.q
    switch (step.op) {
      case 'add':
        return (await q.add(step.name ?? '', step.data, jsOpts(step.opts))).id
      case 'add_bulk':
        return (await q.addBulk(step.jobs.map((j) => ({ name: j.name, data: j.data, opts: jsOpts(j.opts) })))).map((j) => j.id)
      case 'state':
        return q.getJobState(step.id)
      case 'counts':
        return q.counts()
      case 'get_job':
        return jobFields(await q.getJob(step.id))
      case 'get_jobs':
        return (await q.getJobs(step.states)).map((j) => j.name)
      case 'pause':
      case 'resume':
      case 'drain':
        return (await q[step.op]()) ?? null
      case 'is_paused':
        return q.isPaused()
      case 'promote':
        return q.promote(step.id)
      case 'retry_jobs':
        return q.retryJobs(step.state)
      case 'take':
        return this.take()
      case 'complete':
        return this.finish('completed', step.value)
      case 'fail':
        return this.finish(step.unrecoverable ? 'unrecoverable' : 'failed', null, step.reason)
      case 'run_all': {
        const names = []
        for (let job = await this.take(); job !== null; job = await this.take()) {
          names.push(job.name)
          await this.finish('completed', null)
        }
        return names
      }
      case 'maintain':
        return this.hooks.maintain()
      case 'sleep':
        await new Promise((r) => setTimeout(r, step.ms))
        return null
      case 'backoff':
        return call(() => native().__backoffDelays(JSON.stringify(step.backoff), step.attempts_made, step.draw ?? 0))
      case 'next_slots':
        return call(() => native().__nextSlots(JSON.stringify(step.repeat), step.after_ms, step.count))
      case 'upsert_scheduler':
        await q.upsertScheduler(step.id, { ...step.repeat, name: step.name, data: step.data, opts: jsOpts(step.opts) })
        return null
      case 'remove_scheduler':
        return q.removeScheduler(step.id)
      case 'schedulers':
        return (await q.schedulers()).map((s) => ({ id: s.id, name: s.name, next: s.next }))
      default:
        throw new Error(`unknown op ${step.op}`)
    }
  }
}

/** The Node addon (its pure-computation test hooks). */
const native = () => require('../../bindings-node/index.js')

/** A native hook's result, its failure as the redkit error class. */
function call(fn) {
  try {
    return fn()
  } catch (err) {
    throw require('../../bindings-node/errors.js').fromNative(err)
  }
}

for (const transport of allTransports) {
  for (const file of files) {
    const scenario = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'))
    test(`conformance queue/${file} over ${transport}: ${scenario.name}`, async (t) => {
      assert.equal(scenario.pattern, 'queue')
      const client = await backend().transports[transport].make(prefix(`confq-${file}`))
      try {
        const r = new Replay(client.queue(scenario.setup.queue ?? 'conformance'))
        const passedOver = []
        let replayed = 0
        for (const [i, step] of scenario.steps.entries()) {
          if (backendName === 'wasm' && WORKER_OPS.has(step.op)) {
            t.diagnostic(`edge: steps ${i}..${scenario.steps.length - 1} not replayed (step ${i} is ${step.op}: a worker's or a scheduler's)`)
            break
          }
          if (backendName === 'wasm' && PURE_OPS.has(step.op)) {
            passedOver.push(i)
            continue
          }
          replayed += 1
          const where = `step ${i}: ${JSON.stringify(step)}`
          if ('error' in step) {
            const cls = api[step.error]
            assert.equal(typeof cls, 'function', `no error class ${step.error}`)
            await assert.rejects(async () => r.step(step), (err) => err instanceof cls, where)
          } else {
            const got = await r.step(step)
            assert.ok(matches(step.expect ?? null, got), `${where}\n  got ${JSON.stringify(got)}`)
          }
        }
        if (passedOver.length > 0) t.diagnostic(`edge: pure computation steps ${passedOver.join(', ')} passed over`)
        if (replayed === 0) t.skip('the edge replays no step of this scenario (schedulers and workers are not on the edge)')
      } finally {
        await client.close()
      }
    })
  }
}
