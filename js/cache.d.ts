// Types of cache.js: `client.cache(...)` in both JS packages. Options are read by the Rust
// core: unknown names, wrong types, NaN and out-of-range durations are an InvalidArgument.

/** A duration: milliseconds, or a string with a unit (`'250ms'`, `'60s'`, `'5m'`, `'1h'`, `'7d'`). */
export type Duration = number | string

/** Options of `client.cache(namespace, opts)` (each package narrows `codec` to its codecs). */
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
  /** `json` (default), `bytes`, or (Node) `msgpack`. */
  codec?: string
  /** Keep up to this many entries in this process, kept coherent by Redis key tracking
   *  (default 0: none). The edge accepts and checks it but keeps none: its transports
   *  cannot receive the tracking pushes. */
  nearCache?: number
  /** When Redis fails or is slower than `softTimeout` on a read: serve the copy this process
   *  has (stale or not), else return the loader's value unstored; `get` answers a miss
   *  (`null`). Writes (`set`, `delete`, `invalidateTags`) still throw. Default false. */
  failSafe?: boolean
  /** With `failSafe`: the longest a call waits for Redis before answering without it (default 1 s). */
  softTimeout?: Duration
  /** With `failSafe`: after Redis failed, skip it this long, then let one call probe (default 1 s; 0: always ask). */
  circuitBreaker?: Duration
}

/** Options of one write (`set`, `getOrSet`). */
export interface SetOptions {
  /** Fresh time of this entry; the namespace ttl when absent. */
  ttl?: Duration
  /** Tags that `invalidateTags` can invalidate this entry by. */
  tags?: string[]
}

/** Options of `cache.wrap(fn, opts)`. */
export interface WrapOptions<Args extends unknown[]> extends SetOptions {
  /**
   * The cache key of a call: a function of the call's arguments, or a string prefix to
   * which the JSON of the arguments is appended. Defaults to `fn.name` as the prefix (an
   * anonymous function needs a key).
   */
  key?: string | ((...args: Args) => string)
}

/** One cache namespace. `V` is the value type: any JSON-able value, or bytes with the bytes codec. */
export declare class Cache<V = any> {
  private constructor()
  /** The fresh value under `key`, or `null`. One GET. */
  get<T extends V = V>(key: string): Promise<T | null>
  /** Write-through: store `value` with the namespace ttl (or `opts.ttl`) and `opts.tags`. */
  set(key: string, value: V, opts?: SetOptions): Promise<void>
  /** Delete entries: `delete('a', 'b')`; resolves to how many existed. */
  delete(...keys: string[]): Promise<number>
  /** Cache-aside with stampede protection: the fresh value, or the loader's result (sync or async) stored and returned. */
  getOrSet<T extends V = V>(key: string, loader: () => T | Promise<T>, opts?: SetOptions): Promise<T>
  /** Every entry carrying any of `tags` reads as a miss from now on; resolves to how many were deleted. */
  invalidateTags(tags: string[]): Promise<number>
  /** Memoize `fn` through `getOrSet`. */
  wrap<Args extends unknown[], R extends V>(
    fn: (...args: Args) => R | Promise<R>,
    opts?: WrapOptions<Args>,
  ): (...args: Args) => Promise<Awaited<R>>
}

/** What a backend gives the facade for one namespace: the core's operations, each a
 *  promise; `get` and `getOrSet` resolve to decoded values, `getOrSet` runs the loader. */
export interface CacheBackend {
  get(key: string): Promise<any>
  set(key: string, raw: any, opts?: SetOptions): Promise<unknown>
  delete(keys: string[]): Promise<number>
  invalidateTags(tags: string[]): Promise<number>
  getOrSet(key: string, loader: () => unknown, opts?: SetOptions): Promise<any>
}

/** @internal a Cache over `backend`; `encode` turns a value into what `set` stores. */
export declare function makeCache(backend: CacheBackend, encode: (value: any) => any): Cache
/** @internal JSON text of a value (DecodeError for what JSON cannot hold). */
export declare function jsonText(value: unknown): string
/** @internal the value of stored JSON text (DecodeError when it is not JSON). */
export declare function parseJson(text: string): any
/** Memoize `fn` through `cache.getOrSet`. */
export declare function wrap<Args extends unknown[], R>(
  cache: { getOrSet<T>(key: string, loader: () => T | Promise<T>, opts?: SetOptions): Promise<T> },
  fn: (...args: Args) => R | Promise<R>,
  opts?: WrapOptions<Args>,
): (...args: Args) => Promise<Awaited<R>>
