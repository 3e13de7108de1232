// Types of `client.worker(...)` (worker.js), re-exported by redkit.d.ts. Options use
// BullMQ's names and units (durations in ms, or a string with a unit: '30s').
import { EventEmitter } from 'node:events'
import { RedkitError } from './errors'
import type { Job } from './queue-types'

/** `limiter`: at most `max` jobs start per `duration` ms, across every worker of the queue. */
export interface LimiterOptions {
  max: number
  duration: number | string
}

/** Options of `client.worker(queue, processor, opts)`, read by the core (unknown names and bad values are an InvalidArgument). */
export interface WorkerOptions {
  /** Jobs processed at once (default 1). */
  concurrency?: number
  /** The queue's global rate limit, shared by every worker. */
  limiter?: LimiterOptions
  /** How long a job's lease lasts without renewal, ms (default 30 s); renewed every half of it. */
  lockDuration?: number | string
  /** How often expired leases are looked for, ms (default 30 s). */
  stalledInterval?: number | string
  /** Recoveries a job may go through before it fails as stalled (default 1). */
  maxStalledCount?: number
  /** Start fetching at once (default true); otherwise on `run()`. */
  autorun?: boolean
  /** The longest an idle worker blocks on the server before it looks again, ms (default 5 s). */
  drainDelay?: number | string
  /** How often the worker heartbeats while idle, ms (default 5 s). */
  heartbeatInterval?: number | string
  /** A name shown in the queue's worker list. */
  name?: string
}

/** A job being processed: a `Job` that reports progress and writes log lines. */
export interface WorkerJob<D = any, R = any> extends Job<D, R> {
  /** Report progress (any JSON value): stored on the job, emitted as the worker's `progress` event. */
  updateProgress(progress: unknown): Promise<void>
  /** Append a line to the job's log; resolves to the number of lines. */
  log(line: string): Promise<number>
}

/**
 * The user function: returns the result (anything JSON can hold; `undefined` is stored as
 * null) or throws. `signal` aborts on the job's `timeout` (its `reason` a TimeoutError), on
 * `queue.cancel(id)` (a JobFailed), on `close(true)` (a Closed), and when the worker lost
 * the job's lease (a JobFailed). A function declared with one parameter, `(job) => …`, gets
 * no signal (none is made for it). Throwing `UnrecoverableError` fails the job without retries.
 */
export type Processor<D = any, R = any> = (job: WorkerJob<D, R>, signal: AbortSignal) => R | Promise<R>

/** How an attempt failed: the processor threw, threw an UnrecoverableError, timed out, was cancelled, or stalled too often. */
export type FailureKind = 'error' | 'unrecoverable' | 'timeout' | 'cancelled' | 'stalled'

/** The failure of a job the processor did not throw for (a timeout, a cancel, stalls). */
export interface JobFailure extends RedkitError {
  readonly kind: FailureKind
}

/** The worker's events (this process only; the queue's own events come from any process). */
export interface WorkerEvents<D = any, R = any> {
  /** A job completed (its result stored). `job` is undefined if this worker did not hand it out in this process. */
  completed: [job: WorkerJob<D, R> | undefined, result: R]
  /** An attempt failed: the processor's own error, or a JobFailed with its `kind`. */
  failed: [job: WorkerJob<D, R> | undefined, error: Error, willRetry: boolean]
  /** A processor reported progress. */
  progress: [job: WorkerJob<D, R> | undefined, progress: unknown]
  /** This worker's stalled check gave a job whose lease expired back to the queue. */
  stalled: [jobId: string]
  /** Something went wrong outside a processor (Redis unreachable...); the worker goes on. */
  error: [error: RedkitError]
  /** No job waits for this worker any more. */
  drained: []
}

/** Runs a processor over a queue's jobs; from `client.worker(queue, processor, opts)`. */
export declare class Worker<D = any, R = any> extends EventEmitter<WorkerEvents<D, R>> {
  private constructor()
  /** This worker's id, as the queue's worker list shows it. */
  readonly id: string
  /** The queue's name. */
  readonly name: string
  /** Start fetching (`autorun` does it at construction); resolves once the worker is closed. */
  run(): Promise<void>
  /** Stop fetching and wait for the jobs in flight; `close(true)` aborts them and leaves them to stalled recovery. */
  close(force?: boolean): Promise<void>
  /** Take no new jobs; those in flight go on. */
  pause(): void
  /** Take jobs again. */
  resume(): void
  /** Whether `pause()` holds the worker. */
  isPaused(): boolean
  /** Whether the worker was started and not closed. */
  isRunning(): boolean
  /** Jobs being processed now. */
  jobsInFlight(): number
}

/** Throw it from a processor to fail the job at once, whatever attempts it has left. */
export declare class UnrecoverableError extends RedkitError {}
