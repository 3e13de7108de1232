// Types of `client.queue(...)`: the shared Queue and Job (facade/queue.d.ts, one
// declaration for this package and the edge's), and what only this package adds to the
// queue (schedulers), re-exported by redkit.d.ts.

import { EventEmitter } from 'node:events'

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

/** One entry of a queue's events stream (docs/WIRE.md, "Events"). */
export interface QueueEvent {
  /** The stream entry id (`<ms>-<n>`): `queue.events(id)` resumes after it. */
  id: string
  /** `waiting`, `delayed`, `active`, `progress`, `completed`, `failed`, `retrying`, `stalled`, `removed`, `cancelled`, `deduplicated`, `paused`, `resumed`, `drained`, `cleaned` or `lost`. */
  event: string
  jobId: string | null
  /** The other fields, as stored (`rv`: a return value, `fr`: a failed reason, …). */
  fields: Record<string, string>
}

/**
 * `queue.events()`: the queue's events from any process, as an async iterator and an
 * EventEmitter (each event emitted under its name; read failures as `error`, retried).
 * It reads only while a listener is attached or an iterator waits.
 */
export declare class QueueEvents extends EventEmitter implements AsyncIterable<QueueEvent> {
  /** Stop reading; pending iterations end. */
  close(): Promise<void>
  [Symbol.asyncIterator](): AsyncIterator<QueueEvent>
}

/** A durable job queue; from `client.queue(name, defaultJobOptions)`: the shared queue and schedulers. */
export declare class Queue<D = any, R = any> extends SharedQueue<D, R> {
  /** Create or replace scheduler `id`: jobs every `every` ms, or on a `cron` pattern in `tz`; one job per slot. */
  upsertScheduler(id: string, spec: SchedulerSpec<D>): Promise<void>
  /** Remove a scheduler and its pending job; whether it existed. */
  removeScheduler(id: string): Promise<boolean>
  /** Every scheduler of the queue. */
  schedulers(): Promise<SchedulerInfo<D>[]>
  /** The queue's events from any process: `fromId` `'$'` (default: from now on), `'0'` (all the stream holds) or an event id to resume after. */
  events(fromId?: string): QueueEvents
}
