// Types of cacheops.js: internal helpers of the facade's Cache.

/** @internal `keys` when it is an array (InvalidArgument otherwise). */
export declare function keyList<T>(keys: T[], what?: string): T[]
/** @internal the keys and encoded values of `setMany`'s entries. */
export declare function encodedEntries(entries: unknown, encode: (value: any) => any): [string[], any[]]
/** @internal `incr`'s options object. */
export declare function incrOptions(opts: unknown): { ttl?: number | string } | undefined
/** @internal `f()`, or a rejected promise for what it throws. */
export declare function attempt<T>(f: () => Promise<T>): Promise<T>
