// Types of `client.queue(...)` (queue.js), re-exported by redkit.d.ts. Options use BullMQ's
// names and units: durations in ms, except `removeOnComplete.age` / `removeOnFail.age`, in seconds as in BullMQ.

/** The wait before a retry. */
export interface BackoffOptions {
  /** `fixed`: `delay` each time; `exponential`: `2^(attemptsMade-1) * delay`. */
  type: 'fixed' | 'exponential'
  /** The base delay, ms. */
  delay?: number
  /** Up to this fraction (0..1) of each delay is taken off at random. */
  jitter?: number
}

/** What becomes of a finished job: `true` removes it, `false` keeps it, a number keeps
 *  the newest that many, `{age, count}` removes it `age` seconds after it finished and
 *  keeps at most `count`. */
export type RemovalOptions = boolean | number | { age?: number; count?: number }

/** Options of one job (and a queue's default job options). */
export interface JobOptions {
  /** A custom id: adding an existing id returns the existing job. */
  jobId?: string
  /** Lower runs first; 0 (default) = none, before every prioritized job. */
  priority?: number
  /** Run no sooner than this many ms after the add. */
  delay?: number
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
  /** The longest one attempt may run, ms. */
  timeout?: number
  /** A second add with the same `id` inside `ttl` ms returns the first job. */
  deduplication?: { id: string; ttl?: number }
}

/** A job's state name (prioritized and paused jobs are `waiting`). */
export type JobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed'

/** A job as read from Redis when the call returned. */
export declare class Job<D = any, R = any> {
  private constructor()
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
  /** The last progress reported, or null. */
  readonly progress: unknown
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

/** When a scheduler fires and what it adds: `every` (ms, or a string with a unit) or `cron` (+ `tz`, IANA; default UTC). */
export interface SchedulerSpec<D = any> {
  every?: number | string
  cron?: string
  tz?: string
  /** The name of its jobs. */
  name?: string
  /** Their payload. */
  data?: D
  /** Their options. */
  opts?: JobOptions
}

/** A scheduler as stored, with the slot (server ms) of its pending job. */
export interface SchedulerInfo<D = any> {
  id: string
  every?: number
  cron?: string
  tz?: string | null
  name: string
  data: D
  opts: JobOptions
  next: number | null
}

/** A durable job queue; from `client.queue(name, defaultJobOptions)`. */
export declare class Queue<D = any, R = any> {
  private constructor()
  /** The queue's name. */
  readonly name: string
  /** Add one job (one round trip). */
  add(name: string, data: D, opts?: JobOptions): Promise<Job<D, R>>
  /** Add jobs atomically, in one round trip. */
  addBulk(jobs: { name: string; data: D; opts?: JobOptions }[]): Promise<Job<D, R>[]>
  /** The job `id`, or null. */
  getJob(id: string): Promise<Job<D, R> | null>
  /** Jobs in `states`, positions `start..end` (inclusive; default all) of each. */
  getJobs(states: JobState | JobState[], start?: number, end?: number): Promise<Job<D, R>[]>
  /** How many jobs each state holds. */
  counts(): Promise<JobCounts>
  /** Hand out no more jobs (adds still succeed). */
  pause(): Promise<void>
  /** Hand out jobs again. */
  resume(): Promise<void>
  /** Whether the queue is paused. */
  isPaused(): Promise<boolean>
  /** Move every job of `state` (default `failed`) back to waiting; the number moved. */
  retryJobs(state?: 'failed' | 'completed'): Promise<number>
  /** Run a delayed job now; whether it was delayed. */
  promote(id: string): Promise<boolean>
  /** Remove a job; whether it existed. */
  remove(id: string): Promise<boolean>
  /** Cancel a job: a waiting one fails at once, a running one's AbortSignal aborts. */
  cancel(id: string): Promise<boolean>
  /** Remove up to `limit` jobs of `state` (default `completed`) finished more than `grace` ms ago; their ids. */
  clean(grace: number, limit: number, state?: JobState): Promise<string[]>
  /** Remove every waiting job, and the delayed ones when `delayed`. */
  drain(delayed?: boolean): Promise<void>
  /** The state of job `id`, or null once removed. */
  getJobState(id: string): Promise<JobState | null>
  /** Create or replace scheduler `id`: jobs every `every` ms, or on a `cron` pattern in `tz`; one job per slot. */
  upsertScheduler(id: string, spec: SchedulerSpec<D>): Promise<void>
  /** Remove a scheduler and its pending job; whether it existed. */
  removeScheduler(id: string): Promise<boolean>
  /** Every scheduler of the queue. */
  schedulers(): Promise<SchedulerInfo<D>[]>
  /** Remove the whole queue; refuses while jobs are active unless `force`. */
  obliterate(opts?: { force?: boolean }): Promise<void>
}
