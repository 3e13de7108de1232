// Types of the public API (redkit.js / redkit.mjs). The option and report shapes are the
// generated ones of the native addon (index.d.ts).
import type { CacheOptions, ConnectOptions, HealthReport, RateLimitRule, RateLimiterOptions as NativeRateLimiterOptions, SetOptions } from './index'
import type { RedkitError } from './errors'
import type { WrapOptions } from './wrap'
import type { JobOptions, Queue } from './queue-types'

export type { CacheOptions, ConnectOptions, HealthReport, RateLimitRule, SetOptions, WrapOptions }
export type { BackoffOptions, JobCounts, JobOptions, JobState, RemovalOptions } from './queue-types'
export { Job, Queue } from './queue-types'
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

/** Options of `client.rateLimiter(name, opts)`, names narrowed; durations in ms. */
export interface RateLimiterOptions extends Omit<NativeRateLimiterOptions, 'algorithm' | 'onError' | 'clock'> {
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
}

declare const redkit: {
  Client: typeof Client
  Cache: typeof Cache
  RateLimiter: typeof RateLimiter
  Queue: typeof import('./queue-types').Queue
  Job: typeof import('./queue-types').Job
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
