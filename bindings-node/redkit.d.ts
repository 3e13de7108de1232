// Types of the public API (redkit.js / redkit.mjs). The report shape is the generated one of
// the native addon (index.d.ts); options are read by the Rust core (unknown names, wrong
// types, NaN and out-of-range durations are an InvalidArgument).
import type { HealthReport } from './index'
import type { RedkitError } from './errors'
import type { Duration, SetOptions, WrapOptions } from './wrap'
import type { JobOptions, Queue } from './queue-types'
import type { Processor, Worker, WorkerOptions } from './worker-types'

export type { Duration, HealthReport, SetOptions, WrapOptions }
export type { BackoffOptions, JobCounts, JobOptions, JobState, RemovalOptions, SchedulerInfo, SchedulerSpec } from './queue-types'
export { Job, Queue } from './queue-types'
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

/** Options of `client.cache(namespace, opts)`. */
export interface CacheOptions {
  /** How long an entry is fresh (default one hour, at most ten years). */
  ttl?: Duration
  /** Up to this much random time is added to each ttl (default 0). */
  jitter?: Duration
  /** How long a stale entry may still be served while refreshing or when the loader fails (default 0: off). */
  staleTtl?: Duration
  /** XFetch beta for probabilistic early refresh; 0 turns it off (default 1). */
  earlyRefresh?: number
  /** One loader per key across processes (default true). */
  lock?: boolean
  /** Longest a loader holds the lock, and longest others wait for it (default 10 s). */
  lockTimeout?: Duration
  /** `json` (default), `bytes` or `msgpack`. */
  codec?: string
  /** Keep up to this many entries in this process, kept coherent by Redis key tracking (default 0: none). */
  nearCache?: number
}

/** One more limit decided in the same atomic call. */
export interface RateLimitRule {
  /** Requests (cost units) per window, at least 1. */
  limit: number
  /** The window, at least 1 ms. */
  window: Duration
  /** Extra capacity spent at once (gcra and token_bucket only; default 0). */
  burst?: number
}
export {
  RedkitError,
  ConnectionError,
  TimeoutError,
  InvalidArgument,
  DecodeError,
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
   * `json` (default: any JSON-able value), `bytes` (Buffers) or `msgpack` (MessagePack, needs
   * the optional `@msgpack/msgpack` package).
   */
  codec?: 'json' | 'bytes' | 'msgpack'
}

/** One cache namespace. `V` is the value type: any JSON-able value, or Buffer with the bytes codec. */
export declare class Cache<V = any> {
  private constructor()
  /** The fresh value under `key`, or `null`. */
  get<T extends V = V>(key: string): Promise<T | null>
  /** Write-through: store `value` with the namespace ttl (or `opts.ttl`) and `opts.tags`. */
  set(key: string, value: V, opts?: SetOptions): Promise<void>
  /** Delete entries; resolves to how many existed. */
  delete(...keys: string[]): Promise<number>
  /** Cache-aside with stampede protection: the fresh value, or the loader's result stored and returned. */
  getOrSet<T extends V = V>(key: string, loader: () => T | Promise<T>, opts?: SetOptions): Promise<T>
  /** Every entry carrying any of `tags` reads as a miss from now on; resolves to how many were deleted. */
  invalidateTags(tags: string[]): Promise<number>
  /** Memoize `fn` through `getOrSet`. */
  wrap<Args extends unknown[], R extends V>(
    fn: (...args: Args) => R | Promise<R>,
    opts?: WrapOptions<Args>,
  ): (...args: Args) => Promise<Awaited<R>>
}

/** A rate limiting algorithm (docs/ratelimit.md). */
export type RateLimitAlgorithm = 'gcra' | 'token_bucket' | 'sliding_window' | 'sliding_log' | 'fixed_window'

/** Options of `client.rateLimiter(name, opts)`. */
export interface RateLimiterOptions {
  /** Requests (cost units) per window (default 10). */
  limit?: number
  /** The window (default 1 s). */
  window?: Duration
  /** Extra capacity spent at once, gcra and token_bucket only (default 0). */
  burst?: number
  /** More limits decided atomically with the first: nothing is consumed unless all allow. */
  limits?: RateLimitRule[]
  /** Record denied requests too, so a client that keeps retrying stays blocked. */
  countDenied?: boolean
  /** The longest one decision waits for Redis (default 1 s, at most 2^31 - 1 ms). */
  timeout?: Duration
  /** Remember denied identifiers in this process until their retry time. */
  localBlock?: boolean
  /** Default `gcra`. */
  algorithm?: RateLimitAlgorithm
  /** When Redis fails or exceeds `timeout`: `deny` (default) or `allow` give a result with
   *  reason `error`; `raise` rejects. */
  onError?: 'deny' | 'allow' | 'raise'
  /** `server` (default: the script reads TIME) or `client` (this process's clock). */
  clock?: 'server' | 'client'
}

/** One decision. Durations are whole ms, rounded up. */
export interface RateLimitResult {
  /** Whether the request may go on. */
  allowed: boolean
  /** The capacity (limit + burst) of the rule closest to its limit. */
  limit: number
  /** What that rule still allows after this decision (0 when `reason` is `error`). */
  remaining: number
  /** Until that rule is back to full capacity if nothing else comes. */
  resetAfterMs: number
  /** Until a request of the same cost may be allowed; 0 when allowed. */
  retryAfterMs: number
  /** `limit` (Redis decided), `local_block` (denied in-process) or `error` (`onError` decided). */
  reason: 'limit' | 'local_block' | 'error'
  /** The failure `onError` covered, when `reason` is `error`. */
  error?: RedkitError
}

/** A named rate limiter: every decision is one atomic script in Redis. */
export declare class RateLimiter {
  private constructor()
  /** One atomic decision; `cost` defaults to 1, `nowMs` (ms since the epoch) replaces the clock. */
  limit(identifier: string, opts?: { cost?: number; nowMs?: number }): Promise<RateLimitResult>
  /** What a request of cost 1 would get, consuming nothing. */
  peek(identifier: string, opts?: { nowMs?: number }): Promise<RateLimitResult>
  /** Forget `identifier`. */
  reset(identifier: string): Promise<void>
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
  /** Server version, persistence, eviction policy and warnings. */
  check(): Promise<HealthReport>
  /** A cache namespace (durations in milliseconds). */
  cache(namespace: string, opts: CacheOpts & { codec: 'bytes' }): Cache<Buffer>
  cache<V = any>(namespace: string, opts?: CacheOpts): Cache<V>
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
  Worker: typeof import('./worker-types').Worker
  UnrecoverableError: typeof import('./worker-types').UnrecoverableError
  JobFailed: typeof import('./errors').JobFailed
  RedkitError: typeof import('./errors').RedkitError
  ConnectionError: typeof import('./errors').ConnectionError
  TimeoutError: typeof import('./errors').TimeoutError
  InvalidArgument: typeof import('./errors').InvalidArgument
  DecodeError: typeof import('./errors').DecodeError
  ScriptError: typeof import('./errors').ScriptError
  ServerError: typeof import('./errors').ServerError
  NotFound: typeof import('./errors').NotFound
  Closed: typeof import('./errors').Closed
  LockNotAcquired: typeof import('./errors').LockNotAcquired
  LoaderError: typeof import('./errors').LoaderError
}
export default redkit
