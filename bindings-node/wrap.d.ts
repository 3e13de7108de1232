/** A duration: milliseconds, or a string with a unit (`'250ms'`, `'60s'`, `'5m'`, `'1h'`, `'7d'`). */
export type Duration = number | string

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
   * which the JSON of the arguments is appended. Defaults to `fn.name` as the prefix.
   */
  key?: string | ((...args: Args) => string)
}

/** Memoize `fn` through `cache.getOrSet`. */
export declare function wrap<Args extends unknown[], R>(
  cache: { getOrSet<T>(key: string, loader: () => T | Promise<T>, opts?: SetOptions): Promise<T> },
  fn: (...args: Args) => R | Promise<R>,
  opts?: WrapOptions<Args>,
): (...args: Args) => Promise<Awaited<R>>
