'use strict'
// The worker against a real redis-server and the embedded engine: results and failures
// stored as every runtime reads them, events, retries and UnrecoverableError, timeouts and
// cancels reaching the AbortSignal, close (graceful and forced), pause/resume, autorun, and
// bad input (typed errors, the worker goes on, no job lost).

const assert = require('node:assert/strict')
const { describe, test } = require('node:test')

const { Client, Closed, EncodeError, InvalidArgument, JobFailed, TimeoutError, UnrecoverableError, Worker } = require('..')
const { prefix, useServer } = require('./server.js')

const server = useServer()

// Short leases and checks so that the tests run in well under a second each.
const FAST = { lockDuration: 1000, stalledInterval: 500, drainDelay: 200 }

/** Resolves once `check()` is true; fails after `ms`. */
async function until(check, ms = 10_000, what = 'condition') {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** The next `event` of `emitter`, with its arguments. */
function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)))
}

const BACKENDS = [
  ['redis', (name) => Client.connect(server.url, { prefix: prefix(name) })],
  ['embedded', (name) => Client.embedded({ prefix: prefix(name) })],
]

for (const [backend, connect] of BACKENDS) {
  describe(backend, () => {
    test('jobs run at the given concurrency; results are stored and emitted', async () => {
      const client = await connect('w-basic')
      const q = client.queue('basic')
      const added = await q.addBulk(Array.from({ length: 12 }, (_, i) => ({ name: 'n', data: { i, s: 'ü' } })))
      let now = 0
      let peak = 0
      const seen = []
      const w = client.worker(
        'basic',
        async (job, signal) => {
          assert.ok(signal instanceof AbortSignal && !signal.aborted)
          assert.equal(job.name, 'n')
          assert.equal(job.attemptsMade, 0)
          now++
          peak = Math.max(peak, now)
          await new Promise((r) => setTimeout(r, 30))
          now--
          return { doubled: job.data.i * 2, s: job.data.s }
        },
        { concurrency: 4, ...FAST },
      )
      assert.ok(w instanceof Worker)
      assert.equal(w.name, 'basic')
      assert.ok(w.isRunning())
      w.on('completed', (job, result) => seen.push([job.id, result]))
      await until(() => seen.length === 12, 10_000, '12 completions')
      assert.equal(peak, 4)
      const byId = new Map(seen)
      for (const job of added) assert.deepEqual(byId.get(job.id), { doubled: job.data.i * 2, s: 'ü' })
      const stored = await q.getJob(added[3].id)
      assert.deepEqual(stored.returnValue, { doubled: 6, s: 'ü' })
      assert.equal(stored.attemptsMade, 1)
      assert.ok(stored.finishedOn >= stored.processedOn)
      assert.equal((await q.counts()).completed, 12)
      await w.close()
      assert.ok(!w.isRunning())
      await client.close()
    })

    test('a processor declared (job) gets no signal; (...args) and (job, signal) get one', async () => {
      const client = await connect('w-arity')
      const q = client.queue('arity')
      const seen = {}
      const run = async (name, processor) => {
        await q.add(name, {})
        const w = client.worker('arity', processor, FAST)
        await until(() => name in seen, 10_000, name)
        await w.close()
      }
      await run('one', function (job) {
        seen[job.name] = arguments[1]
        return null
      })
      await run('rest', (...args) => {
        seen[args[0].name] = args[1]
        return null
      })
      await run('two', (job, signal) => {
        seen[job.name] = signal
        return null
      })
      assert.equal(seen.one, undefined)
      assert.ok(seen.rest instanceof AbortSignal)
      assert.ok(seen.two instanceof AbortSignal)
      assert.equal((await q.counts()).completed, 3)
      await client.close()
    })

    test('completed events reach listeners added at any time, also after removeAllListeners(); job data keeps its key order', async () => {
      const client = await connect('w-listeners')
      const q = client.queue('listeners')
      let release
      let gate = new Promise((r) => (release = r))
      const w = client.worker(
        'listeners',
        async (job) => {
          await gate
          return Object.keys(job.data)
        },
        { concurrency: 2, ...FAST },
      )
      // No listener while the first job runs: it is written without its event.
      await q.add('a', { zeta: 1, alpha: 2 })
      await until(() => w.jobsInFlight() === 1, 10_000, 'the first job to start')
      release()
      await until(async () => (await q.counts()).completed === 1, 10_000, 'the first job to complete')
      // A listener added while a job runs gets that job's event, with the job.
      gate = new Promise((r) => (release = r))
      const added = await q.add('b', { zeta: 1, alpha: 2 })
      await until(() => w.jobsInFlight() === 1, 10_000, 'the second job to start')
      const first = once(w, 'completed')
      release()
      const [job, result] = await first
      assert.equal(job.id, added.id)
      assert.deepEqual(result, ['zeta', 'alpha'])
      assert.deepEqual(Object.keys((await q.getJob(added.id)).data), ['zeta', 'alpha'])
      // Every listener gone, the `newListener` hook included: a new listener still hears.
      w.removeAllListeners()
      const third = await q.add('c', { k: 3 })
      await until(async () => (await q.counts()).completed === 3, 10_000, 'the third job to complete')
      const seen = []
      w.on('completed', (j) => seen.push(j.id))
      const fourth = await q.add('d', { k: 4 })
      await until(() => seen.includes(fourth.id), 10_000, 'the fourth job\'s event')
      assert.ok(!seen.includes(third.id))
      await w.close()
      await client.close()
    })

    test('waitUntilFinished resolves to the result a worker stores; workers() lists the live worker', async () => {
      const client = await connect('w-wait')
      const q = client.queue('wait')
      const job = await q.add('slow', { n: 21 })
      let release
      const gate = new Promise((r) => (release = r))
      const w = client.worker(
        'wait',
        async (j) => {
          await gate
          return j.data.n * 2
        },
        { concurrency: 3, ...FAST },
      )
      const finished = job.waitUntilFinished(10_000)
      await until(async () => (await q.counts()).active === 1, 10_000, 'the job to start')
      // The lease renewal (every lockDuration / 2) beats with the job in flight.
      await until(async () => (await q.workers())[0]?.running === 1, 5000, 'a beat with the job running')
      const workers = await q.workers()
      assert.equal(workers.length, 1)
      const [info] = workers
      assert.equal(typeof info.id, 'string')
      assert.equal(info.pid, process.pid)
      assert.equal(info.concurrency, 3)
      assert.ok(Number.isInteger(info.lastSeenMs) && info.lastSeenMs >= 0 && info.lastSeenMs < 5000)
      release()
      assert.equal(await finished, 42)
      assert.equal(await job.waitUntilFinished(1000), 42)
      await w.close()
      await client.close()
    })

    test('a throw fails the attempt with its message and stack; retries; UnrecoverableError skips them', async () => {
      const client = await connect('w-fail')
      const q = client.queue('fail')
      const retried = await q.add('r', 'x', { attempts: 3, backoff: { type: 'fixed', delay: 10 } })
      class Fatal extends UnrecoverableError {}
      const fatal = await q.add('f', 'y', { attempts: 5 })
      const attempts = []
      const failures = []
      const w = client.worker(
        'fail',
        async (job) => {
          attempts.push([job.id, job.attemptsMade])
          if (job.id === fatal.id) throw new Fatal('give up')
          throw new TypeError('no such user')
        },
        FAST,
      )
      w.on('failed', (job, err, willRetry) => failures.push([job.id, err, willRetry]))
      await until(async () => (await q.counts()).failed === 2, 10_000, 'two failed jobs')
      assert.deepEqual(attempts.filter(([id]) => id === retried.id).map(([, n]) => n), [0, 1, 2])
      assert.deepEqual(attempts.filter(([id]) => id === fatal.id).map(([, n]) => n), [0])
      const r = await q.getJob(retried.id)
      assert.equal(r.failedReason, 'no such user')
      assert.equal(r.attemptsMade, 3)
      assert.match(r.stacktrace.at(-1), /^TypeError: no such user\n\s+at /)
      const f = await q.getJob(fatal.id)
      assert.equal(f.attemptsMade, 1)
      assert.equal(f.failedReason, 'Fatal: give up')
      // The stack is kept, as any failure's is.
      assert.match(f.stacktrace.at(-1), /give up\n\s+at /)
      // The listener gets the processor's own error, and whether the job runs again.
      const last = failures.filter(([id]) => id === retried.id)
      assert.deepEqual(last.map(([, , again]) => again), [true, true, false])
      assert.ok(last[0][1] instanceof TypeError)
      assert.ok(failures.find(([id]) => id === fatal.id)[1] instanceof Fatal)
      await w.close()
      await client.close()
    })

    test('timeout and queue.cancel abort the signal and fail the job with a typed reason', async () => {
      const client = await connect('w-signal')
      const q = client.queue('signal')
      const slow = await q.add('slow', null, { timeout: 100 })
      const reasons = new Map()
      const w = client.worker(
        'signal',
        (job, signal) =>
          new Promise((resolve, reject) => {
            signal.addEventListener('abort', () => {
              reasons.set(job.id, signal.reason)
              reject(new Error('stopped'))
            })
          }),
        { concurrency: 2, ...FAST },
      )
      const failed = []
      w.on('failed', (job, err) => failed.push([job?.id, err]))
      await until(() => failed.length === 1, 10_000, 'the timeout')
      // The signal says why it aborted.
      assert.ok(reasons.get(slow.id) instanceof TimeoutError, String(reasons.get(slow.id)))
      assert.ok(failed[0][1] instanceof JobFailed)
      assert.equal(failed[0][1].kind, 'timeout')
      assert.match((await q.getJob(slow.id)).failedReason, /timed out after 100 ms/)
      const held = await q.add('held', null)
      await until(async () => (await q.counts()).active === 1, 10_000, 'the job to start')
      assert.equal(await q.cancel(held.id), true)
      await until(() => failed.length === 2, 10_000, 'the cancel')
      assert.ok(reasons.get(held.id) instanceof JobFailed, String(reasons.get(held.id)))
      assert.match(reasons.get(held.id).message, /cancelled/)
      assert.equal(failed[1][1].kind, 'cancelled')
      assert.match((await q.getJob(held.id)).failedReason, /cancelled/)
      await w.close()
      await client.close()
    })

    test('updateProgress and log from a processor; progress events', async () => {
      const client = await connect('w-progress')
      const q = client.queue('progress')
      const job = await q.add('p', 1)
      const w = client.worker(
        'progress',
        async (j) => {
          await j.updateProgress({ pct: 50 })
          assert.deepEqual(j.progress, { pct: 50 })
          assert.equal(await j.log('half way'), 1)
          assert.equal(await j.log('done'), 2)
          await assert.rejects(j.updateProgress(undefined), EncodeError)
          await assert.rejects(j.log(42), InvalidArgument)
          return 'ok'
        },
        FAST,
      )
      const [pjob, progress] = await once(w, 'progress')
      assert.equal(pjob.id, job.id)
      assert.deepEqual(progress, { pct: 50 })
      const [cjob, result] = await once(w, 'completed')
      assert.equal(result, 'ok')
      assert.equal(cjob.returnValue, 'ok')
      assert.deepEqual((await q.getJob(job.id)).progress, { pct: 50 })
      await w.close()
      await client.close()
    })

    test('a result JSON cannot hold fails that job with EncodeError; the worker goes on', async () => {
      const client = await connect('w-result')
      const q = client.queue('result')
      const circular = {}
      circular.self = circular
      const values = { big: 10n, circular, fn: () => 1, sym: Symbol('s'), none: undefined, fine: [1, 'a'] }
      const jobs = {}
      for (const name of Object.keys(values)) jobs[name] = await q.add(name, null)
      const errors = new Map()
      const w = client.worker('result', async (job) => values[job.name], { concurrency: 3, ...FAST })
      w.on('failed', (job, err) => errors.set(job.name, err))
      await until(async () => {
        const c = await q.counts()
        return c.completed + c.failed === 6
      }, 10_000, 'every job to end')
      assert.deepEqual([...errors.keys()].sort(), ['big', 'circular', 'fn', 'sym'])
      for (const err of errors.values()) assert.ok(err instanceof EncodeError, String(err))
      assert.match((await q.getJob(jobs.big.id)).failedReason, /cannot be stored as JSON/)
      assert.equal((await q.getJob(jobs.none.id)).returnValue, null)
      assert.deepEqual((await q.getJob(jobs.fine.id)).returnValue, [1, 'a'])
      await w.close()
      await client.close()
    })

    test('close() waits for the jobs in flight; close(true) aborts them and leaves them to stalled recovery', async () => {
      const client = await connect('w-close')
      const q = client.queue('close')
      await q.add('a', null)
      let finished = false
      const w = client.worker(
        'close',
        async () => {
          await new Promise((r) => setTimeout(r, 200))
          finished = true
          return 1
        },
        FAST,
      )
      await until(async () => (await q.counts()).active === 1, 10_000, 'the job to start')
      await w.close()
      assert.ok(finished, 'close() resolved before the job in flight finished')
      assert.equal((await q.counts()).completed, 1)

      const held = await q.add('b', null)
      let aborted = null
      const forced = client.worker(
        'close',
        (job, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve((aborted = signal.reason)))),
        FAST,
      )
      await until(async () => (await q.counts()).active === 1, 10_000, 'the job to start')
      await forced.close(true)
      assert.ok(aborted instanceof Closed, String(aborted))
      // Nothing written: the job is still active, for stalled recovery to hand out again.
      assert.equal(await (await q.getJob(held.id)).attemptsMade, 0)
      assert.equal((await q.counts()).active, 1)
      const again = client.worker('close', async () => 'second', FAST)
      const stalled = []
      again.on('stalled', (id) => stalled.push(id))
      const [job, result] = await once(again, 'completed')
      assert.equal(job.id, held.id)
      assert.equal(result, 'second')
      // The new worker's stalled check is what gave the job back.
      assert.deepEqual(stalled, [held.id])
      await again.close()
      await client.close()
    })

    test('autorun: false waits for run(); pause and resume; run() resolves on close', async () => {
      const client = await connect('w-run')
      const q = client.queue('run')
      await q.add('a', 1)
      let calls = 0
      const w = client.worker('run', async () => ++calls, { autorun: false, ...FAST })
      assert.ok(!w.isRunning())
      await new Promise((r) => setTimeout(r, 100))
      assert.equal(calls, 0)
      const running = w.run()
      assert.equal(w.run(), running)
      await once(w, 'completed')
      w.pause()
      assert.ok(w.isPaused())
      await q.add('b', 2)
      await new Promise((r) => setTimeout(r, 300))
      assert.equal(calls, 1)
      w.resume()
      await once(w, 'completed')
      assert.equal(calls, 2)
      await w.close()
      await running
      await client.close()
    })

    test('bad input: typed errors at once, the client unharmed', async () => {
      const client = await connect('w-bad')
      for (const p of [undefined, null, 42, 'fn', {}]) {
        assert.throws(() => client.worker('bad', p), InvalidArgument, String(p))
      }
      assert.throws(() => client.worker(42, async () => 1), InvalidArgument)
      assert.throws(() => client.worker('', async () => 1), InvalidArgument)
      for (const opts of [
        { concurrency: 0 },
        { concurrency: -1 },
        { concurrency: 1.5 },
        { concurrency: 'many' },
        { concurrency: Number.NaN },
        { lockDuration: 0 },
        { lockDuration: 'soon' },
        { limiter: { max: 0, duration: 1000 } },
        { limiter: { max: 1 } },
        { autorun: 'yes' },
        { concurency: 5 },
        [1],
        'fast',
      ]) {
        assert.throws(() => client.worker('bad', async () => 1, opts), InvalidArgument, JSON.stringify(opts))
      }
      // Nothing was left running or registered: the client works and closes.
      const q = client.queue('bad')
      await q.add('a', 1)
      const w = client.worker('bad', async () => 'fine', FAST)
      const [, result] = await once(w, 'completed')
      assert.equal(result, 'fine')
      await client.close()
      // client.close() closed the worker first, gracefully.
      assert.ok(!w.isRunning())
      assert.throws(() => client.worker('bad', async () => 1), Closed)
    })
  })
}

// A worker process as deployed: SIGTERM's handler calls close() and nothing else; the
// process then exits by itself (a job in flight finishes first), and a closed worker keeps
// nothing alive, whether or not its client is closed too.
describe('a worker process', () => {
  const { spawn } = require('node:child_process')
  const path = require('node:path')
  const SCRIPT = `
    const { Client } = require(${JSON.stringify(path.join(__dirname, '..'))})
    ;(async () => {
      const client = await Client.connect(process.env.URL, { prefix: process.env.PREFIX })
      const q = client.queue('proc')
      const w = client.worker('proc', async (job) => {
        console.log('started ' + job.id)
        await new Promise((r) => setTimeout(r, 300))
        return 'done'
      })
      w.on('completed', (job) => console.log('completed ' + job.id))
      process.once('SIGTERM', async () => {
        await w.close()
        console.log('closed')
        if (process.env.CLOSE_CLIENT === '1') await client.close()
      })
      await q.add('a', 1)
    })()`

  for (const closeClient of ['0', '1']) {
    test(`exits cleanly on SIGTERM after close()${closeClient === '1' ? ' and client.close()' : ''}`, async () => {
      const child = spawn(process.execPath, ['-e', SCRIPT], {
        env: { ...process.env, URL: server.url, PREFIX: prefix('w-proc'), CLOSE_CLIENT: closeClient },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (err += d))
      const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
      await until(() => out.includes('started'), 10_000, `the job to start (stderr: ${err})`)
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const { code, signal } = await exited
      clearTimeout(timer)
      assert.equal(signal, null, `the process was killed: it did not exit by itself; stdout: ${out}; stderr: ${err}`)
      assert.equal(code, 0, err)
      // The job in flight finished before the close resolved.
      assert.match(out, /started (\d+)\ncompleted \1\nclosed\n/)
    })
  }
})
