'use strict'
// queue.events(): the queue's events stream read from any process, as an async iterator and
// an EventEmitter, on a real redis-server and the embedded engine; resuming from an id; bad
// cursors; close() ending a read in flight and keeping nothing alive.

const assert = require('node:assert/strict')
const { describe, test } = require('node:test')

const { Client, InvalidArgument, QueueEvents } = require('..')
const { prefix, useServer } = require('./server.js')

const server = useServer()

const FAST = { lockDuration: 1000, stalledInterval: 500, drainDelay: 200 }

const BACKENDS = [
  ['redis', (name) => Client.connect(server.url, { prefix: prefix(name) })],
  ['embedded', (name) => Client.embedded({ prefix: prefix(name) })],
]

/** The events of `iterable` until one satisfies `last` (included). */
async function collect(iterable, last) {
  const seen = []
  for await (const e of iterable) {
    seen.push(e)
    if (last(e)) break
  }
  return seen
}

for (const [backend, connect] of BACKENDS) {
  describe(backend, () => {
    test('an iterator sees a job added and run by a worker, in order; another resumes after an id', async () => {
      const client = await connect('qe-iter')
      const q = client.queue('q')
      const events = q.events()
      assert.ok(events instanceof QueueEvents)
      // Pinned at the call: the add below comes after it, though no read has started yet.
      const job = await q.add('a', { n: 2 })
      const w = client.worker('q', async (j) => j.data.n * 10, FAST)
      const seen = await collect(events, (e) => e.event === 'completed')
      const mine = seen.filter((e) => e.jobId === job.id).map((e) => e.event)
      assert.deepEqual(mine, ['waiting', 'active', 'completed'])
      const completed = seen.at(-1)
      assert.match(completed.id, /^\d+-\d+$/)
      assert.equal(completed.fields.rv, '20')

      // From '0': everything the stream holds; from an id: what came after it.
      const all = await collect(q.events('0'), (e) => e.id === completed.id)
      assert.deepEqual(all.map((e) => e.id), seen.map((e) => e.id))
      const after = q.events(seen[0].id)
      const rest = await collect(after, (e) => e.id === completed.id)
      assert.deepEqual(rest.map((e) => e.id), seen.slice(1).map((e) => e.id))
      await Promise.all([events.close(), after.close(), w.close()])
      await client.close()
    })

    test('an EventEmitter emits each event under its name, and stops reading once closed', async () => {
      const client = await connect('qe-emit')
      const q = client.queue('q')
      const events = q.events()
      const completed = []
      const failed = []
      events.on('completed', (e) => completed.push(e.jobId))
      events.on('failed', (e) => failed.push([e.jobId, e.fields.fr]))
      const ok = await q.add('ok', 1)
      const bad = await q.add('bad', 2)
      const w = client.worker(
        'q',
        async (j) => {
          if (j.name === 'bad') throw new Error('no such user')
          return 'fine'
        },
        FAST,
      )
      const deadline = Date.now() + 10_000
      while (completed.length + failed.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      assert.deepEqual(completed, [ok.id])
      assert.deepEqual(failed, [[bad.id, 'no such user']])
      await events.close()
      await q.add('later', 3)
      await new Promise((r) => setTimeout(r, 300))
      assert.deepEqual(completed.length + failed.length, 2)
      await w.close()
      await client.close()
    })

    test('close() ends a pending read at once; bad cursors are InvalidArgument when given', async () => {
      const client = await connect('qe-close')
      const q = client.queue('q')
      const events = q.events()
      const it = events[Symbol.asyncIterator]()
      const pending = it.next()
      await new Promise((r) => setTimeout(r, 50))
      const started = Date.now()
      await events.close()
      assert.deepEqual(await pending, { value: undefined, done: true })
      assert.ok(Date.now() - started < 500, `close took ${Date.now() - started} ms`)
      assert.deepEqual(await it.next(), { value: undefined, done: true })
      for (const bad of ['now', '1-', '-1', '', '1-2-3']) assert.throws(() => q.events(bad), InvalidArgument, bad)
      for (const bad of [5, null, {}]) assert.throws(() => q.events(bad), InvalidArgument, String(bad))
      await client.close()
    })
  })
}

test('a process reading events exits by itself once it closes them', async () => {
  const { spawn } = require('node:child_process')
  const path = require('node:path')
  const script = `
    const { Client } = require(${JSON.stringify(path.join(__dirname, '..'))})
    ;(async () => {
      const client = await Client.connect(process.env.URL, { prefix: process.env.PREFIX })
      const events = client.queue('q').events()
      events.on('waiting', async (e) => {
        console.log('waiting ' + e.jobId)
        await events.close()
      })
      await client.queue('q').add('a', 1)
    })()`
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, URL: server.url, PREFIX: prefix('qe-proc') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  const [code, signal] = await new Promise((resolve) => child.on('exit', (...a) => resolve(a)))
  clearTimeout(timer)
  assert.equal(signal, null, `killed: it did not exit by itself; stdout: ${out}; stderr: ${err}`)
  assert.equal(code, 0, err)
  assert.match(out, /^waiting \d+\n$/)
})
