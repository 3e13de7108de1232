// Types of cache.js: `client.cache(...)` in both JS packages. Options are read by the Rust
// core: unknown names, wrong types, NaN and out-of-range durations are an InvalidArgument.

import type { CodecObject } from './values.js'

export type { CodecObject } from './values.js'

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
  /** `json` (default), `bytes`, (Node) `msgpack`, or a codec object (docs/values.md). */
  codec?: string | CodecObject<any>
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

/** Options of `cache.get(key, opts)`. */
export interface GetOptions<D> {
  /** What a miss resolves to instead of `null`: a cached `null` is then told apart from a miss. */
  default: D
}

/** Options of `cache.wrap(fn, opts)`. `tags` may hold templates too (`'team:{teamId}'`). */
export interface WrapOptions<Args extends unknown[]> extends SetOptions {
  /**
   * The cache key of a call: a function of the call's arguments (its `this` is the call's);
   * a template (`'user:{0}'` the first argument, `'team:{teamId}'` a property of the first
   * argument, `'{this.id}'` the receiver, `{{`/`}}` literal braces); or a string prefix to
   * which the JSON of the arguments is appended (trailing `undefined`s dropped). Defaults
   * to `fn.name` as the prefix (an anonymous function needs a key).
   */
  key?: string | ((this: any, ...args: Args) => string)
}

/** What a cache did since it was made (`cache.stats()`), counted in the core. */
export interface CacheStats {
  /** Reads (`get`, `getMany`, `getOrSet`) answered with a fresh value. */
  hits: number
  /** Reads that found no fresh value. */
  misses: number
  /** `getOrSet` calls answered with a stale value (`staleTtl`, `failSafe`). */
  staleServes: number
  /** Of the hits, those served from the near cache (no round trip). */
  nearHits: number
  /** Times a loader was called. */
  loaderCalls: number
  /** Calls that failed other than for bad input, and answers `failSafe` made without Redis. */
  errors: number
}

/**
 * One cache namespace. `V` is the value type: `unknown` unless told (`client.cache<User>(…)`),
 * bytes with the bytes codec, what a codec object decodes to. With the JSON codec, values
 * come back as plain JSON (a `Date` as its ISO string: docs/values.md).
 */
export declare class Cache<V = unknown> {
  private constructor()
  /** The fresh value under `key`, or `null` on a miss. One GET. */
  get<T extends V = V>(key: string): Promise<T | null>
  /** The fresh value under `key`, or `opts.default` on a miss (a cached `null` is `null`). */
  get<T extends V = V, D = null>(key: string, opts: GetOptions<D>): Promise<T | D>
  /** Write-through: store `value` with the namespace ttl (or `opts.ttl`) and `opts.tags`. */
  set(key: string, value: V, opts?: SetOptions): Promise<void>
  /** Delete entries: `delete('a', 'b')`; resolves to how many existed. */
  delete(...keys: string[]): Promise<number>
  /** Cache-aside with stampede protection: the fresh value, or the loader's result (sync or async) stored and returned. */
  getOrSet<T extends V = V>(key: string, loader: () => T | Promise<T>, opts?: SetOptions): Promise<T>
  /** Every entry carrying any of `tags` reads as a miss from now on; resolves to how many were deleted. */
  invalidateTags(tags: string[]): Promise<number>
  /** Each key's fresh value, or `null`, in order. One round trip (MGET). */
  getMany<T extends V = V>(keys: string[]): Promise<(T | null)[]>
  /** Write-through of several entries (an object or a Map of key to value) with one ttl and one set of tags. One round trip. */
  setMany(entries: Record<string, V> | Map<string, V>, opts?: SetOptions): Promise<void>
  /** Delete the entries of `keys`; resolves to how many existed. One round trip (DEL). */
  deleteMany(keys: string[]): Promise<number>
  /** Whether `key` holds a fresh entry (one `get` would return). */
  exists(key: string): Promise<boolean>
  /** How many ms `key`'s entry stays fresh, or `null` when it holds none. */
  ttl(key: string): Promise<number | null>
  /** Keep `key`'s fresh entry fresh for `ttl` from now, its value unchanged; resolves to whether there was one. */
  touch(key: string, ttl: Duration): Promise<boolean>
  /** Add `by` (default 1, a whole number within ±(2^53 − 1)) to the counter under `key`; resolves to its new value.
   *  A missing counter starts from 0 and lives `opts.ttl` (the namespace ttl by default); later calls keep that expiry. */
  incr(key: string, by?: number, opts?: { ttl?: Duration }): Promise<number>
  /** Delete every entry of the namespace in bounded steps (SCAN, never KEYS); resolves to how many were deleted. */
  clear(): Promise<number>
  /** What this cache did since it was made. */
  stats(): CacheStats
  /** Memoize `fn` through `getOrSet`; the wrapper passes its `this` on, so a wrapped method keeps its object. */
  wrap<Args extends unknown[], R extends V, This = unknown>(
    fn: (this: This, ...args: Args) => R | Promise<R>,
    opts?: WrapOptions<Args>,
  ): (this: This, ...args: Args) => Promise<Awaited<R>>
}

/** What a backend gives the facade for one namespace: the core's operations, each a
 *  promise; `get` and `getOrSet` resolve to decoded values, `getOrSet` runs the loader. */
export interface CacheBackend {
  get(key: string): Promise<any>
  /** `get`, resolving to `missing` on a miss. */
  getOr(key: string, missing: unknown): Promise<any>
  set(key: string, raw: any, opts?: SetOptions): Promise<unknown>
  delete(keys: string[]): Promise<number>
  invalidateTags(tags: string[]): Promise<number>
  getOrSet(key: string, loader: () => unknown, opts?: SetOptions): Promise<any>
  getMany(keys: string[]): Promise<any[]>
  setMany(keys: string[], raws: any[], opts?: SetOptions): Promise<unknown>
  exists(key: string): Promise<boolean>
  ttl(key: string): Promise<number | null>
  touch(key: string, ttl: Duration): Promise<boolean>
  incr(key: string, by?: number, opts?: { ttl?: Duration }): Promise<number>
  clear(): Promise<number>
  stats(): CacheStats
}

/** @internal a Cache over `backend`; `encode` turns a value into what `set` stores. */
export declare function makeCache(backend: CacheBackend, encode: (value: any) => any): Cache
/** Memoize `fn` through `cache.getOrSet`. */
export declare function wrap<Args extends unknown[], R, This = unknown>(
  cache: { getOrSet<T>(key: string, loader: () => T | Promise<T>, opts?: SetOptions): Promise<T> },
  fn: (this: This, ...args: Args) => R | Promise<R>,
  opts?: WrapOptions<Args>,
): (this: This, ...args: Args) => Promise<Awaited<R>>
