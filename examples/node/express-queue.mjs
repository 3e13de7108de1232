// An Express app that enqueues from a request handler, with a worker beside it in the same
// process (in production the worker usually runs in processes of its own: the same code).
// Served on 127.0.0.1 and called with fetch.
// Run: REDIS_URL=redis://127.0.0.1:6379 node express-queue.mjs

import assert from 'node:assert/strict'
import express from 'express'
import { Client, InvalidArgument } from 'redkit'

const client = await Client.connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  prefix: process.env.REDKIT_PREFIX ?? `example-express-queue-${process.pid}`,
})
const emails = client.queue('email', { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 86400 } })

// The worker: renders and "sends" each email.
const outbox = []
const worker = client.worker(
  'email',
  async (job) => {
    await job.updateProgress(50)
    outbox.push(job.data.to)
    return { messageId: `msg-${job.id}` }
  },
  { concurrency: 5 },
)

const app = express()
app.use(express.json())

// Enqueue and answer at once: the request does not wait for the email.
app.post('/signup', async (req, res, next) => {
  try {
    const { email } = req.body ?? {}
    if (typeof email !== 'string' || !email.includes('@')) return res.status(400).json({ error: 'email required' })
    const job = await emails.add('send-welcome', { to: email, template: 'welcome' }, { jobId: `welcome:${email}` })
    res.status(202).json({ jobId: job.id })
  } catch (err) {
    next(err)
  }
})

// Where a job is: its state fields and result.
app.get('/jobs/:id', async (req, res, next) => {
  try {
    const job = await emails.getJob(req.params.id)
    if (job === null) return res.status(404).json({ error: 'no such job' })
    res.json({ id: job.id, finished: job.finishedOn !== null, result: job.returnValue, failedReason: job.failedReason })
  } catch (err) {
    next(err)
  }
})

app.use((err, req, res, _next) => {
  res.status(err instanceof InvalidArgument ? 400 : 500).json({ error: err.message })
})

const server = app.listen(0, '127.0.0.1')
await new Promise((r) => server.once('listening', r))
const base = `http://127.0.0.1:${server.address().port}`

const post = (email) =>
  fetch(`${base}/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) })
const first = await post('ada@example.com')
assert.equal(first.status, 202)
const { jobId } = await first.json()
// The same signup twice is one job (jobId is idempotent).
assert.equal((await (await post('ada@example.com')).json()).jobId, jobId)
assert.equal((await post('nobody')).status, 400)

let status
for (let i = 0; i < 200; i++) {
  status = await (await fetch(`${base}/jobs/${encodeURIComponent(jobId)}`)).json()
  if (status.finished) break
  await new Promise((r) => setTimeout(r, 25))
}
assert.deepEqual(status, { id: jobId, finished: true, result: { messageId: `msg-${jobId}` }, failedReason: null })
assert.deepEqual(outbox, ['ada@example.com'])
console.log(`POST /signup -> 202 ${jobId}; GET /jobs/${jobId} -> ${JSON.stringify(status.result)}`)

server.close()
await worker.close()
await emails.obliterate()
await client.close()
console.log('express queue: ok')
