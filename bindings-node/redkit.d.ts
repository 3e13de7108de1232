// Types of the public API (redkit.js / redkit.mjs). The option and report shapes are the
// generated ones of the native addon (index.d.ts).
import type { CacheOptions, ConnectOptions, HealthReport, SetOptions } from './index'
import type { WrapOptions } from './wrap'

export type { CacheOptions, ConnectOptions, HealthReport, SetOptions, WrapOptions }
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

/** Options of `client.cache(namespace, opts)`, with the codec narrowed to what Node supports. */
export interface CacheOpts extends Omit<CacheOptions, 'codec'> {
  /** `json` (default: any JSON-able value) or `bytes` (Buffers). */
  codec?: 'json' | 'bytes'
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
  cache(namespace: string, opts?: CacheOpts & { codec: 'bytes' }): Cache<Buffer>
  cache<V = any>(namespace: string, opts?: CacheOpts): Cache<V>
}

declare const redkit: {
  Client: typeof Client
  Cache: typeof Cache
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
