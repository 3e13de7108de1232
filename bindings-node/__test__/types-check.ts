// Compiled with `tsc --noEmit` by scripts/test-node.sh: the hand-written declarations
// must describe the public API as it is used.
import redkit, { Client, Closed, InvalidArgument, RedkitError, type HealthReport } from '../redkit'

async function demo(): Promise<void> {
  const client: Client = await Client.connect('redis://127.0.0.1:6379', { prefix: 'app', timeout: 1000, lazyConnect: true })
  await client.ping()
  const report: HealthReport = await client.check()
  const version: string = report.serverVersion
  const plainCounter = client.cache('counters')
  const users = client.cache<{ id: number; name: string }>('users', { ttl: 3_600_000, jitter: 300_000, staleTtl: 1000 })
  const user = await users.getOrSet('user:42', async () => ({ id: 42, name: 'Ada' }), { tags: ['team:7'] })
  const id: number = user.id
  const maybe = await users.get('user:42')
  if (maybe !== null) console.log(maybe.name)
  await users.set('user:42', user, { ttl: 1000, tags: ['team:7'] })
  const deleted: number = await users.delete('user:42', 'user:43')
  const invalidated: number = await users.invalidateTags(['team:7'])
  const many: ({ id: number; name: string } | null)[] = await users.getMany(['user:42', 'user:43'])
  await users.setMany({ a: user, b: user }, { ttl: '5m', tags: ['team:7'] })
  await users.setMany(new Map([['a', user]]))
  const gone: number = await users.deleteMany(['a', 'b'])
  const there: boolean = await users.exists('a')
  const left: number | null = await users.ttl('a')
  const touched: boolean = await users.touch('a', 60_000)
  const count: number = await plainCounter.incr('views', 1, { ttl: '1d' })
  const cleared: number = await users.clear()
  const { hits, misses, staleServes, nearHits, loaderCalls, errors } = users.stats()
  console.log(many, gone, there, left, touched, count, cleared, hits, misses, staleServes, nearHits, loaderCalls, errors)
  const find = users.wrap(async (n: number) => ({ id: n, name: 'x' }), { key: (n) => `user:${n}`, ttl: 1000 })
  const found: { id: number } = await find(1)
  const byTemplate = users.wrap(async (n: number, team?: string) => ({ id: n, name: team ?? '' }), {
    key: 'user:{0}', tags: ['team:{1}'],
  })
  await byTemplate(1, 'x')
  class Repo {
    constructor(readonly name: string) {}
    find = users.wrap(async function (this: Repo, n: number) { return { id: n, name: this.name } }, { key: '{this.name}:{0}' })
  }
  const mine: { name: string } = await new Repo('r').find(1)
  // No options: JSON values, not the bytes overload; unknown until narrowed (not any).
  const plain = client.cache('plain')
  await plain.set('k', { id: 1 })
  const got = await plain.get('k')
  // @ts-expect-error an unknown value has no properties until it is narrowed
  console.log(got.id)
  const loaded: { id: number } = await plain.getOrSet('k', () => ({ id: 1 })) // the loader's type
  const near = client.cache<{ id: number }>('near', { nearCache: 10_000, failSafe: true, softTimeout: '100ms', circuitBreaker: 0 })
  const hot: { id: number } | null = await near.get('k')
  const blobs = client.cache('blobs', { codec: 'bytes' })
  const blob: Buffer | null = await blobs.get('b')
  const blobList: (Buffer | null)[] = await blobs.getMany(['b'])
  console.log(blobList)
  await blobs.set('b', Buffer.from('x'))
  // Values are `unknown` unless told, not `any`.
  const unknownValue = await plain.get('k')
  // @ts-expect-error an unknown value is not a number
  const notAny: number = unknownValue
  // A codec object: the cache holds what it decodes to.
  const upper = client.cache('upper', {
    codec: { encode: (v: string) => v.toUpperCase(), decode: (b: Uint8Array) => Buffer.from(b).toString().toLowerCase() },
  })
  const shout: string | null = await upper.get('k')
  // A default tells a miss from a cached null.
  const MISSING = Symbol('missing')
  const told: { id: number } | null | typeof MISSING = await near.get('k', { default: MISSING })
  console.log(notAny, shout, told)
  try {
    await client.close()
  } catch (err) {
    if (err instanceof Closed || err instanceof InvalidArgument) console.log(err.code)
    if (err instanceof RedkitError) console.log(err.message)
  }
  console.log(version, id, deleted, invalidated, found, blob, hot, mine, loaded, redkit.Client === Client)
}
void demo

// The rate limiter and its Express middleware.
import { type RateLimitResult, type RateLimiter } from '../redkit'
import { rateLimit } from '../express'
import express from 'express'

async function limits(client: Client): Promise<void> {
  const api: RateLimiter = client.rateLimiter('api', {
    limit: 100, window: 60_000, algorithm: 'sliding_window', limits: [{ limit: 1000, window: 3_600_000 }],
    onError: 'allow', timeout: 50, localBlock: true, clock: 'server', countDenied: false,
    insurance: true, circuitBreaker: '2s',
  })
  const r: RateLimitResult = await api.limit('user:42', { cost: 2 })
  const peeked = await api.peek('user:42', { nowMs: Date.now() })
  await api.reset('user:42')
  const why: 'limit' | 'local_block' | 'error' | 'insurance' | 'allow_list' | 'deny_list' = r.reason
  const failures: number = api.errors()
  client.onIncident((i) => console.log(i.pattern, i.fallback, i.count, i.error.code, failures))
  client.onIncident(null)
  if (r.error) console.log(r.error.code)
  const login: RateLimiter = client.rateLimiter('login', { rate: '5/minute;100/day', blockFor: '15m', allowList: ['ok'], denyList: ['bad'] })
  const taken: RateLimitResult = await login.penalty('ip', 2, { nowMs: Date.now() })
  const given: RateLimitResult = await login.reward('ip', 1)
  const waited: RateLimitResult = await login.wait('ip', { cost: 1, timeout: '2s' })
  const policy: string = login.policy
  console.log(taken.remaining, given.remaining, waited.allowed, policy)
  const app = express()
  app.use(rateLimit(api, { key: (req: express.Request) => req.ip ?? null, cost: () => 1 }))
  app.get('/', (req, res) => {
    const decision: RateLimitResult | undefined = req.rateLimit // Express's Request carries it
    res.json({ remaining: decision?.remaining ?? null })
  })
  console.log(r.allowed, r.retryAfterMs, peeked.remaining, why)
}
void limits

// The queue: BullMQ's option names and units.
import { type Job, type JobCounts, type JobState, type Queue, type SchedulerInfo } from '../redkit'

async function queues(client: Client): Promise<void> {
  const emails: Queue<{ to: string }, string> = client.queue('emails', {
    attempts: 3, backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 },
  })
  const job: Job<{ to: string }, string> = await emails.add('welcome', { to: 'a@b.c' }, { jobId: 'w1', priority: 2, delay: 10 })
  const many = await emails.addBulk([{ name: 'n', data: { to: 'x' } }])
  const again = await emails.getJob(job.id)
  const waiting = await emails.getJobs(['waiting', 'delayed'], 0, 9)
  const counts: JobCounts = await emails.counts()
  await emails.pause()
  const paused: boolean = await emails.isPaused()
  await emails.resume()
  const retried: number = await emails.retryJobs('failed')
  const flags: boolean[] = [await emails.promote('1'), await emails.remove('1'), await emails.cancel('1')]
  const cleaned: string[] = await emails.clean(1000, 100, 'completed')
  await emails.drain(true)
  const state: JobState | null = await emails.getJobState('1')
  await emails.upsertScheduler('digest', { cron: '0 9 * * *', tz: 'Europe/Paris', name: 'digest', data: { to: 'all' } })
  await emails.upsertScheduler('tick', { every: 60_000 })
  const schedules: SchedulerInfo<{ to: string }>[] = await emails.schedulers()
  const removed: boolean = await emails.removeScheduler('tick')
  console.log(state, schedules[0]?.next, removed)
  await emails.obliterate({ force: true })
  console.log(job.data.to, job.returnValue, many.length, again?.attemptsMade, waiting, counts.waiting, paused, retried, flags, cleaned)
}
void queues

// The worker: an EventEmitter with typed events, an AbortSignal per job.
import { JobFailed, UnrecoverableError, Worker, type FailureKind, type WorkerJob, type WorkerOptions } from '../redkit'

async function workers(client: Client): Promise<void> {
  const opts: WorkerOptions = { concurrency: 5, limiter: { max: 100, duration: 60_000 }, lockDuration: '30s', autorun: false }
  const w: Worker<{ to: string }, string> = client.worker<{ to: string }, string>('emails', async (job: WorkerJob<{ to: string }, string>, signal: AbortSignal) => {
    if (signal.aborted) throw new UnrecoverableError('stop')
    await job.updateProgress(50)
    const lines: number = await job.log(`to ${job.data.to}`)
    return `sent ${lines}`
  }, opts)
  w.on('completed', (job, result: string) => console.log(job?.id, result.length))
  w.on('failed', (job, err, willRetry: boolean) => {
    if (err instanceof JobFailed) console.log((err as JobFailed & { kind: FailureKind }).kind)
    console.log(job?.failedReason, err.message, willRetry)
  })
  w.on('progress', (_job, p) => console.log(p))
  w.on('stalled', (id: string) => console.log(id))
  w.on('error', (err) => console.log(err.code))
  w.on('drained', () => {})
  const done: Promise<void> = w.run()
  w.pause()
  w.resume()
  const flags: boolean[] = [w.isPaused(), w.isRunning()]
  const n: number = w.jobsInFlight()
  await w.close()
  await w.close(true)
  await done
  // A sync processor returning a plain value type-checks too.
  const sync = client.worker('plain', (job) => job.data)
  await sync.close()
  console.log(w.id, w.name, flags, n)
}
void workers
