'use strict'
// The queue against a real redis-server: add and its options in BullMQ's names and units,
// addBulk in one round trip, the getters, pause/resume, maintenance, and bad input (typed
// InvalidArgument / DecodeError / Closed, never a crash, the queue unharmed).

const assert = require('node:assert/strict')
const { after, before, test } = require('node:test')

const { Client, Closed, DecodeError, InvalidArgument, Job, Queue } = require('..')
const { command, prefix, startServer } = require('./server.js')

let server
let client
before(async () => {
  server = await startServer()
  client = await Client.connect(server.url, { prefix: prefix('q') })
})
after(async () => {
  await client.close()
  await server.stop()
})

/** Scripts the server has run (EVALSHA + EVAL). */
async function scriptCalls() {
  const info = await command(server.port, 'INFO', 'commandstats')
  let n = 0
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) n += Number(m[1])
  return n
}

const FIELDS = [
  'id', 'name', 'data', 'opts', 'attemptsMade', 'progress', 'returnValue', 'failedReason',
  'timestamp', 'processedOn', 'finishedOn', 'stacktrace',
]

test('client.queue returns at once; add gives a Job with BullMQ-shaped fields and options', async () => {
  const q = client.queue('shape', { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 86_400 } })
  assert.ok(q instanceof Queue)
  assert.equal(q.name, 'shape')
  const before = Date.now()
  const data = { to: 'ü@example.com', nested: { list: [1, 2.5, ''] }, big: 2 ** 53 - 1 }
  const job = await q.add('welcome', data, { priority: 2, removeOnFail: 10 })
  assert.ok(job instanceof Job)
  assert.deepEqual(Object.keys(job).sort(), [...FIELDS].sort())
  assert.match(job.id, /^\d+$/)
  assert.equal(job.name, 'welcome')
  assert.deepEqual(job.data, data)
  // The queue's defaults under the add's own, camelCase, in BullMQ's units.
  assert.deepEqual(job.opts, {
    attempts: 3,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: 86_400 },
    removeOnFail: 10,
    priority: 2,
  })
  assert.equal(job.attemptsMade, 0)
  assert.equal(job.returnValue, null)
  assert.equal(job.failedReason, null)
  assert.equal(job.processedOn, null)
  assert.ok(Math.abs(job.timestamp - before) < 5000, `${job.timestamp} vs ${before}`)
  const read = await q.getJob(job.id)
  assert.deepEqual(read, job)
  assert.equal(await q.getJob('nope'), null)
})

test('jobId is idempotent; delay and priority land in their states; counts and getJobs agree', async () => {
  const q = client.queue('states')
  const a = await q.add('a', 1, { jobId: 'custom-a' })
  const again = await q.add('a', 2, { jobId: 'custom-a' })
  assert.equal(again.id, 'custom-a')
  assert.equal(again.data, 1)
  await q.add('d', 2, { delay: 60_000 })
  await q.add('p', 3, { priority: 5 })
  const counts = await q.counts()
  assert.equal(counts.waiting, 2)
  assert.equal(counts.prioritized, 1)
  assert.equal(counts.delayed, 1)
  assert.equal(counts.active, 0)
  const waiting = await q.getJobs('waiting')
  assert.ok(waiting.some((j) => j.id === a.id), JSON.stringify(waiting))
  const delayed = await q.getJobs(['delayed'])
  assert.equal(delayed.length, 1)
  assert.equal(await q.promote(delayed[0].id), true)
  assert.equal((await q.counts()).delayed, 0)
  assert.equal(await q.promote(delayed[0].id), false)
})

test('addBulk adds atomically in one round trip', async () => {
  const q = client.queue('bulk')
  const jobs = Array.from({ length: 1000 }, (_, i) => ({ name: 'n', data: { i }, opts: i === 0 ? { jobId: 'first' } : undefined }))
  const n0 = await scriptCalls()
  const added = await q.addBulk(jobs)
  assert.equal((await scriptCalls()) - n0, 1)
  assert.equal(added.length, 1000)
  assert.equal(added[0].id, 'first')
  assert.deepEqual(added[999].data, { i: 999 })
  assert.equal((await q.counts()).waiting, 1000)
  // One bad job refuses the whole batch: nothing added.
  await assert.rejects(q.addBulk([{ name: 'ok', data: 1 }, { name: 'bad', data: 2, opts: { attempts: -1 } }]), InvalidArgument)
  assert.equal((await q.counts()).waiting, 1000)
})

test('pause, resume, isPaused; remove, cancel, drain, clean, retryJobs, obliterate', async () => {
  const q = client.queue('maint')
  const j = await q.add('x', 'payload')
  await q.pause()
  assert.equal(await q.isPaused(), true)
  assert.equal((await q.counts()).paused, 1)
  await q.resume()
  assert.equal(await q.isPaused(), false)
  assert.equal(await q.remove(j.id), true)
  assert.equal(await q.remove(j.id), false)
  // Cancelling a waiting job fails it at once, with a reason.
  const c = await q.add('c', null)
  assert.equal(await q.cancel(c.id), true)
  const cancelled = await q.getJob(c.id)
  assert.equal(cancelled.finishedOn !== null, true)
  assert.ok(typeof cancelled.failedReason === 'string' && cancelled.failedReason.length > 0)
  assert.equal((await q.counts()).failed, 1)
  assert.equal(await q.retryJobs(), 1)
  assert.equal((await q.counts()).waiting, 1)
  await q.add('later', 1, { delay: 60_000 })
  await q.drain()
  assert.deepEqual([(await q.counts()).waiting, (await q.counts()).delayed], [0, 1])
  await q.drain(true)
  assert.equal((await q.counts()).delayed, 0)
  const f = await q.add('f', 1)
  await q.cancel(f.id)
  assert.deepEqual(await q.clean(0, 10, 'failed'), [f.id])
  await q.add('y', 1)
  await q.obliterate()
  const left = await command(server.port, 'KEYS', `${client.prefix}:{queue:maint}*`)
  assert.equal(left, '*0\r\n')
})

test('bad input: typed errors, the queue unharmed', async () => {
  const q = client.queue('bad')
  assert.throws(() => client.queue('', {}), InvalidArgument)
  assert.throws(() => client.queue(42), InvalidArgument)
  assert.throws(() => client.queue('q', 'attempts'), InvalidArgument)
  assert.throws(() => client.queue('q', { attempts: 'three' }), InvalidArgument)
  assert.throws(() => client.queue('q', { remove_on_complete: true }), InvalidArgument)
  for (const opts of [
    { attempts: -1 },
    { attempts: 1.5 },
    { priority: -2 },
    { delay: -5 },
    { delay: 'soon' },
    { backoff: { type: 'linear', delay: 1 } },
    { removeOnComplete: { age: -1 } },
    { bogus: true },
    { jobId: '' },
    [1],
    { delay: NaN },
    { attempts: Infinity },
    { backoff: { type: 'fixed', delay: -Infinity } },
  ]) {
    await assert.rejects(q.add('n', 1, opts), InvalidArgument, String(Object.values(opts)))
  }
  assert.throws(() => client.queue('q', { delay: NaN }), InvalidArgument)
  await assert.rejects(q.add('n', undefined), DecodeError)
  await assert.rejects(q.add('n', 10n), DecodeError)
  await assert.rejects(q.add(7, 1), InvalidArgument)
  await assert.rejects(q.addBulk('jobs'), InvalidArgument)
  await assert.rejects(q.addBulk([{ name: 'n' }]), InvalidArgument)
  await assert.rejects(q.getJobs(['nostate']), InvalidArgument)
  await assert.rejects(q.retryJobs('sleeping'), InvalidArgument)
  await assert.rejects(q.clean(-1, 10, 'completed'), InvalidArgument)
  await assert.rejects(q.clean(0, 1.5, 'completed'), InvalidArgument)
  await assert.rejects(q.getJob(5), InvalidArgument)
  assert.deepEqual(await q.counts(), { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0, prioritized: 0 })
})

test('a closed client: every queue call rejects with Closed', async () => {
  const c = await Client.connect(server.url, { prefix: prefix('q-closed') })
  const q = c.queue('x')
  await c.close()
  await assert.rejects(q.add('n', 1), Closed)
  await assert.rejects(q.counts(), Closed)
})

test('the embedded engine runs the same queue calls', async () => {
  const c = await Client.embedded({ prefix: prefix('q-embedded') })
  try {
    const q = c.queue('e', { attempts: 2 })
    const [a] = await q.addBulk([{ name: 'n', data: { x: 'ÿ' } }])
    const b = await q.add('n', [1, 2], { delay: 60_000 })
    assert.deepEqual((await q.getJob(a.id)).data, { x: 'ÿ' })
    assert.equal(b.opts.attempts, 2)
    const counts = await q.counts()
    assert.deepEqual([counts.waiting, counts.delayed], [1, 1])
    await q.obliterate()
    assert.equal(await q.getJob(a.id), null)
  } finally {
    await c.close()
  }
})
