// The seed's BullMQ email worker with redkit: the producer's options and the worker's read
// as they do in the seed (attempts 3, exponential backoff from 1 s, completed jobs removed
// after 24 h, failed ones kept 7 days, concurrency 5, at most 100 jobs a minute).
// Run: REDIS_URL=redis://127.0.0.1:6379 node email-worker.mjs

import assert from 'node:assert/strict'
import { Client } from 'redkit'

const client = await Client.connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  prefix: process.env.REDKIT_PREFIX ?? `example-email-${process.pid}`,
})

// Producer: add jobs to the queue.
const emailQueue = client.queue('email')
const welcome = await emailQueue.add(
  'send-welcome',
  { to: 'user@example.com', subject: 'Welcome to 47Network', template: 'welcome' },
  {
    attempts: 3, // Retry up to 3 times on failure
    backoff: { type: 'exponential', delay: 1000 }, // 1s, 2s, 4s backoff
    removeOnComplete: { age: 86400 }, // Remove completed jobs after 24h
    removeOnFail: { age: 604800 }, // Keep failed jobs for 7 days (for debugging)
  },
)

// A mail server that refuses the first delivery: the retry after 1 s goes through.
const sent = []
let refusals = 0
async function sendEmail({ to, subject, template }) {
  await new Promise((r) => setTimeout(r, 20))
  if (refusals++ === 0) throw new Error('451 try again later')
  sent.push({ to, subject, template })
}

// Consumer: process jobs.
const worker = client.worker(
  'email',
  async (job) => {
    const { to, subject, template } = job.data
    await sendEmail({ to, subject, template })
    // Throwing an error triggers a retry
  },
  {
    concurrency: 5, // Process 5 jobs simultaneously
    limiter: {
      max: 100, // Rate limit: max 100 jobs per minute, across every worker of the queue
      duration: 60_000,
    },
  },
)
worker.on('failed', (job, err, willRetry) => console.log(`job ${job?.id} failed: ${err.message}; retry: ${willRetry}`))

const started = Date.now()
const [job] = await new Promise((resolve) => worker.once('completed', (...args) => resolve(args)))
assert.equal(job.id, welcome.id)
assert.deepEqual(sent, [{ to: 'user@example.com', subject: 'Welcome to 47Network', template: 'welcome' }])
// The retry waited for the first backoff step (1 s).
assert.ok(Date.now() - started >= 900, `retried after ${Date.now() - started} ms`)
const done = await emailQueue.getJob(welcome.id)
assert.equal(done.attemptsMade, 2)
console.log(`email sent after ${done.attemptsMade} attempts; ${JSON.stringify(await emailQueue.counts())}`)

// SIGTERM in production: close() lets the jobs in flight finish; then the process exits.
await worker.close()
await emailQueue.obliterate()
await client.close()
console.log('email worker: ok')
