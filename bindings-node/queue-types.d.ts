// Types of `client.queue(...)`: the shared Queue and Job (facade/queue.d.ts, one
// declaration for this package and the edge's), and what only this package adds to the
// queue (schedulers), re-exported by redkit.d.ts.

import type { JobOptions, Queue as SharedQueue } from './facade/queue.js'

export type { BackoffOptions, JobCounts, JobOptions, JobState, RemovalOptions } from './facade/queue.js'
export { Job } from './facade/queue.js'

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

/** A durable job queue; from `client.queue(name, defaultJobOptions)`: the shared queue and schedulers. */
export declare class Queue<D = any, R = any> extends SharedQueue<D, R> {
  /** Create or replace scheduler `id`: jobs every `every` ms, or on a `cron` pattern in `tz`; one job per slot. */
  upsertScheduler(id: string, spec: SchedulerSpec<D>): Promise<void>
  /** Remove a scheduler and its pending job; whether it existed. */
  removeScheduler(id: string): Promise<boolean>
  /** Every scheduler of the queue. */
  schedulers(): Promise<SchedulerInfo<D>[]>
}
