// Types of the public API (redkit.js / redkit.mjs). The report shape is the generated one of
// the native addon (index.d.ts); options are read by the Rust core (unknown names, wrong
// types, NaN and out-of-range durations are an InvalidArgument).
import type { HealthReport } from './index'
import type { RedkitError } from './errors'
import type { Incident } from './facade/errors.js'
import type { CacheOptions, CodecObject, Duration, GetOptions, SetOptions, WrapOptions, Cache } from './facade/cache.js'
import type { RateLimiterOptions, RateLimiter } from './facade/ratelimit.js'
import type { JobOptions, Queue } from './queue-types'
import type { Processor, Worker, WorkerOptions } from './worker-types'

export type { CacheOptions, CodecObject, Duration, GetOptions, HealthReport, Incident, SetOptions, WrapOptions }
export type { RateLimitAlgorithm, RateLimitResult, RateLimitRule, RateLimiterOptions } from './facade/ratelimit.js'
export { Cache } from './facade/cache.js'
export { RateLimiter } from './facade/ratelimit.js'
export type { BackoffOptions, JobCounts, JobOptions, JobState, QueueEvent, RemovalOptions, SchedulerInfo, SchedulerSpec } from './queue-types'
export { Job, Queue, QueueEvents } from './queue-types'
export type { FailureKind, JobFailure, LimiterOptions, Processor, WorkerEvents, WorkerJob, WorkerOptions } from './worker-types'
export { UnrecoverableError, Worker } from './worker-types'

/** Options of `Client.connect(url, opts)`. */
export interface ConnectOptions {
  /** Key namespace put before every key (default `rk`). */
  prefix?: string
  /** Retries per request after a connection failure (0 to 100, default 3). */
  retries?: number
  /** Cap of the backoff between retries (default 2 s). */
  retryBackoffMax?: Duration
  /** Deadline per command, retries included (default 5 s, at most 2^31 - 1 ms). */
  timeout?: Duration
  /** Deadline for connecting (default 5 s, at most 2^31 - 1 ms). */
  connectTimeout?: Duration
  /** Connect on first use instead of now (default false: fail fast). */
  lazyConnect?: boolean
  /** Let requests wait for a reconnect (default true). */
  offlineQueue?: boolean
  /** Most requests waiting for a reconnect at once (default 10000). */
  offlineQueueMax?: number
}

export {
  RedkitError,
  ConnectionError,
  TimeoutError,
  InvalidArgument,
  DecodeError,
  EncodeError,
  ScriptError,
  ServerError,
  NotFound,
  Closed,
  LockNotAcquired,
  LoaderError,
  JobFailed,
} from './errors'

/** Options of `client.cache(namespace, opts)`, with the codec narrowed to the names Node knows. */
export interface CacheOpts extends Omit<CacheOptions, 'codec'> {
  /**
   * `json` (default: any JSON-able value, mapped as docs/values.md says), `bytes` (Buffers),
   * `msgpack` (MessagePack, needs the optional `@msgpack/msgpack` package), or a codec
   * object `{ encode(value), decode(buffer) }`.
   */
  codec?: 'json' | 'bytes' | 'msgpack' | CodecObject<any>
}

/** A connection to Redis (one multiplexed connection, shared) and the door to the patterns. */
export declare class Client {
  private constructor()
  /** Connect to `url` (`redis://`, `rediss://`; user, password and db in the URL). */
  static connect(url: string, opts?: ConnectOptions): Promise<Client>
  /** An in-process engine instead of a server: every pattern, no Redis needed. */
  static embedded(opts?: { prefix?: string }): Promise<Client>
  /** The key prefix. */
  readonly prefix: string
  /** Round-trip a PING. */
  ping(): Promise<void>
  /** Close the connection; every later call fails with `Closed`. */
  close(): Promise<void>
  /** Be told of decisions made because Redis failed (see `Incident`), at most once per 10 s
   *  per cache or limiter, asynchronously; `null` stops the reports. No console output. */
  onIncident(hook: ((incident: Incident) => void) | null): void
  /** Server version, persistence, eviction policy and warnings. */
  check(): Promise<HealthReport>
  /** A cache namespace (durations in milliseconds). */
  cache(namespace: string, opts: CacheOpts & { codec: 'bytes' }): Cache<Buffer>
  cache<V>(namespace: string, opts: CacheOpts & { codec: CodecObject<V> }): Cache<V>
  cache<V = unknown>(namespace: string, opts?: CacheOpts): Cache<V>
  /** A named rate limiter (durations in milliseconds). */
  rateLimiter(name: string, opts?: RateLimiterOptions): RateLimiter
  /** A durable job queue, returned at once; `defaultJobOptions` as BullMQ's. */
  queue<D = any, R = any>(name: string, defaultJobOptions?: JobOptions): Queue<D, R>
  /**
   * A worker running `processor(job, signal)` over the jobs of `queueName`, returned at once;
   * it starts fetching unless `autorun: false`. Throws InvalidArgument for a processor that
   * is not a function or bad options, Closed on a closed client.
   */
  worker<D = any, R = any>(queueName: string, processor: Processor<D, R>, opts?: WorkerOptions): Worker<D, R>
}

declare const redkit: {
  Client: typeof Client
  Cache: typeof Cache
  RateLimiter: typeof RateLimiter
  Queue: typeof import('./queue-types').Queue
  Job: typeof import('./queue-types').Job
  QueueEvents: typeof import('./queue-types').QueueEvents
  Worker: typeof import('./worker-types').Worker
  UnrecoverableError: typeof import('./worker-types').UnrecoverableError
  JobFailed: typeof import('./errors').JobFailed
  RedkitError: typeof import('./errors').RedkitError
  ConnectionError: typeof import('./errors').ConnectionError
  TimeoutError: typeof import('./errors').TimeoutError
  InvalidArgument: typeof import('./errors').InvalidArgument
  DecodeError: typeof import('./errors').DecodeError
  EncodeError: typeof import('./errors').EncodeError
  ScriptError: typeof import('./errors').ScriptError
  ServerError: typeof import('./errors').ServerError
  NotFound: typeof import('./errors').NotFound
  Closed: typeof import('./errors').Closed
  LockNotAcquired: typeof import('./errors').LockNotAcquired
  LoaderError: typeof import('./errors').LoaderError
}
export default redkit
