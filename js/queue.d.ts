// Types of queue.js: `client.queue(...)` in both JS packages. Options use BullMQ's names
// and units: durations in ms (or a string with a unit, `'5s'`), except
// `removeOnComplete.age` / `removeOnFail.age`, in seconds as in BullMQ.

import type { Duration } from './cache.js'

/** The wait before a retry. */
export interface BackoffOptions {
  /** `fixed`: `delay` each time; `exponential`: `2^(attemptsMade-1) * delay`. */
  type: 'fixed' | 'exponential'
  /** The base delay. */
  delay?: Duration
  /** Up to this fraction (0..1) of each delay is taken off at random. */
  jitter?: number
}

/** What becomes of a finished job: `true` removes it, `false` keeps it, a number keeps
 *  the newest that many, `{age, count}` removes it `age` seconds after it finished and
 *  keeps at most `count`. */
export type RemovalOptions = boolean | number | { age?: number; count?: number }

/** Options of one job (and a queue's default job options). */
export interface JobOptions {
  /** A custom id (not a decimal integer): adding an existing id returns the existing job. */
  jobId?: string
  /** Lower runs first; 0 (default) = none, before every prioritized job. */
  priority?: number
  /** Run no sooner than this after the add. */
  delay?: Duration
  /** Attempts in all, the first included (default 1). */
  attempts?: number
  /** The wait before each retry. */
  backoff?: BackoffOptions
  /** What becomes of the job once completed. */
  removeOnComplete?: RemovalOptions
  /** What becomes of the job once failed for good. */
  removeOnFail?: RemovalOptions
  /** Put the job at the head of the wait list. */
  lifo?: boolean
  /** The longest one attempt may run. */
  timeout?: Duration
  /** A second add with the same `id` inside `ttl` (default: until the first job
   *  finishes) returns the first job. */
  deduplication?: { id: string; ttl?: Duration }
}

/** A job's state name (prioritized and paused jobs are `waiting`). */
export type JobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed'

/** A job as read from Redis when the call returned. */
export declare class Job<D = any, R = any> {
  /** @internal jobs come from a queue (or a backend's worker, which may subclass). */
  protected constructor(queue: Queue<D, R>, fields: Record<string, any>)
  /** The id (automatic ids are decimal integers). */
  readonly id: string
  /** The name given at add. */
  readonly name: string
  /** The payload. */
  readonly data: D
  /** The effective options (the queue's defaults under the add's). */
  readonly opts: JobOptions
  /** Attempts that have ended, success included. */
  readonly attemptsMade: number
  /** The last progress reported, or null (a worker's job updates it). */
  progress: unknown
  /** The processor's result once completed, or null. */
  readonly returnValue: R | null
  /** Why the last attempt failed, or null. */
  readonly failedReason: string | null
  /** When the job was added: server ms since the epoch. */
  readonly timestamp: number
  /** When its last attempt started (server ms), or null. */
  readonly processedOn: number | null
  /** When it completed or failed for good (server ms), or null. */
  readonly finishedOn: number | null
  /** The stack texts of the last errors, oldest first. */
  readonly stacktrace: string[]
  /** How often it was found stalled (its worker gone). */
  readonly stalledCount: number
  /** The queue it belongs to. */
  readonly queue: Queue<D, R>
  /** Its state, or null once removed. */
  state(): Promise<JobState | null>
  /** Remove it (refused while a worker holds it); false when it was gone. */
  remove(): Promise<boolean>
  /** Run the failed job again, attempts reset; false when it is not failed. */
  retry(): Promise<boolean>
  /** Store progress (any JSON value) on the job and send a `progress` event. */
  updateProgress(progress: unknown): Promise<void>
  /** Append a line to the job's log; resolves to the number of lines. */
  log(line: string): Promise<number>
  /** The job's log lines `start..end` (inclusive, default 0..-1: all). */
  logs(start?: number, end?: number): Promise<string[]>
  /** The return value once the job completes; rejects with `JobFailed` (its reason) when it
   *  fails, `TimeoutError` after `timeout` ms (default 30 s). */
  waitUntilFinished(timeout?: number | string): Promise<R | null>
}

/** A worker seen by `queue.workers()`, from its heartbeats. */
export interface WorkerInfo {
  id: string
  host: string
  pid: number
  /** The name the user gave it. */
  name: string
  concurrency: number
  /** Jobs in flight at its last beat. */
  running: number
  /** How long ago it was last seen, ms. */
  lastSeenMs: number
}

/** How many jobs each state holds (`paused` only while the queue is paused). */
export interface JobCounts {
  waiting: number
  active: number
  delayed: number
  completed: number
  failed: number
  prioritized: number
  paused?: number
}

/** A durable job queue; from `client.queue(name, defaultJobOptions)`. Payloads are JSON
 *  (`undefined`, functions and BigInts are a `DecodeError`: use null for no data). */
export declare class Queue<D = any, R = any> {
  /** @internal queues come from `client.queue`; a backend may subclass. */
  protected constructor(token: symbol, backend: QueueBackend, name: string)
  /** The queue's name. */
  readonly name: string
  /** @internal the backend's queue, for a backend's own additions. */
  readonly _backend: QueueBackend & Record<string, any>
  /** Add one job (one round trip); for a `jobId` or deduplication id already taken, the job holding it. */
  add(name: string, data: D, opts?: JobOptions): Promise<Job<D, R>>
  /** Add jobs atomically, in one round trip. */
  addBulk(jobs: { name: string; data: D; opts?: JobOptions }[]): Promise<Job<D, R>[]>
  /** The job `id`, or null. */
  getJob(id: string): Promise<Job<D, R> | null>
  /** Jobs in `states` (default every state), positions `start..end` (inclusive; `end` -1: the last) of each. */
  getJobs(states?: JobState | JobState[], start?: number, end?: number): Promise<Job<D, R>[]>
  /** How many jobs each state holds; one round trip. */
  counts(): Promise<JobCounts>
  /** The state of job `id`, or null when there is none. */
  getJobState(id: string): Promise<JobState | null>
  /** Hand out no more jobs (adds still succeed). */
  pause(): Promise<void>
  /** Hand out jobs again. */
  resume(): Promise<void>
  /** Whether the queue is paused. */
  isPaused(): Promise<boolean>
  /** Move every job of `state` (default `failed`) back to waiting; the number moved. */
  retryJobs(state?: 'failed' | 'completed' | { state?: 'failed' | 'completed' }): Promise<number>
  /** Run one failed job again, attempts reset; whether it was failed. */
  retryJob(id: string): Promise<boolean>
  /** Run a delayed job now; whether it was delayed. */
  promote(id: string): Promise<boolean>
  /** Remove a job (an active one is refused); whether it existed. */
  remove(id: string): Promise<boolean>
  /** Cancel a job: a waiting or delayed one fails at once, a running one's AbortSignal
   *  aborts; false when there is no such job or it finished already. */
  cancel(id: string): Promise<boolean>
  /** Remove up to `limit` jobs of `state` (default `completed`) finished more than `grace`
   *  ago (ms, or a string with its unit: `'1h'`); their ids. */
  clean(grace: Duration, limit: number, state?: JobState): Promise<string[]>
  /** Remove every waiting job, and the delayed ones when `delayed`. */
  drain(delayed?: boolean): Promise<void>
  /** Remove the whole queue; refuses while jobs are active unless `force`. */
  obliterate(opts?: { force?: boolean }): Promise<void>
  /** The workers (any process, any runtime) seen within `window` ms (default 60 s). */
  workers(window?: number | string): Promise<WorkerInfo[]>
  /** Results refused because their delivery had lost its lease, since the queue was made. */
  lateResults(): Promise<number>
}

/** What a backend gives the facade for one queue: the core's operations, each a promise;
 *  jobs as plain objects of a `Job`'s fields with `data` and `returnValue` decoded. */
export interface QueueBackend {
  add(name: string, data: string, opts: object | undefined): Promise<object>
  addBulk(jobs: { name: string; data: string; opts: object | undefined }[]): Promise<object[]>
  getJob(id: string): Promise<object | null>
  getJobs(states: string[], start: number, end: number): Promise<object[]>
  counts(): Promise<JobCounts>
  state(id: string): Promise<JobState | null>
  pause(): Promise<unknown>
  resume(): Promise<unknown>
  isPaused(): Promise<boolean>
  retryJobs(state: string): Promise<number>
  retryJob(id: string): Promise<boolean>
  promote(id: string): Promise<boolean>
  remove(id: string): Promise<boolean>
  cancel(id: string): Promise<boolean>
  /** `grace` as given: the backend reads it by the core's duration rules. */
  clean(grace: unknown, limit: number, state: string): Promise<string[]>
  drain(delayed: boolean): Promise<unknown>
  obliterate(force: boolean): Promise<unknown>
  updateProgress(id: string, progress: string): Promise<unknown>
  log(id: string, line: string): Promise<number>
  logs(id: string, start: number, end: number): Promise<string[]>
  waitUntilFinished(id: string, timeout: number | string | null): Promise<any>
  workers(window: number | string | null): Promise<WorkerInfo[]>
  lateResults(): Promise<number>
}

/** @internal `client.queue(name, defaults)` over `open`, which makes the backend's queue;
 *  `cls`: `Queue` or a backend's subclass. */
export declare function makeQueue<Q extends Queue = Queue>(
  open: (name: string, defaults: object | undefined) => QueueBackend,
  name: string,
  defaults: unknown,
  cls?: { prototype: Q },
): Q
/** @internal a payload as JSON text (DecodeError for what JSON cannot hold). */
export declare function jobData(data: unknown, what: string): string
/** @internal a job's progress as JSON text (InvalidArgument for what JSON cannot hold). */
export declare function progressText(progress: unknown): string
