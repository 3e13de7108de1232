// `Cache` for both JS packages: the shapes of the API every runtime shares, argument checks, value
// encoding and `wrap`, over a backend cache (the Node addon, or the edge's wasm) that runs
// each operation in the core. Every cache semantic (ttl, tags, stampede protection) lives
// in the Rust core.
//
// A backend cache is an object of functions, each returning a promise (see `CacheBackend`
// in cache.d.ts): `get` resolves to the decoded value (`getOr` to its `missing` argument
// on a miss), `getOrSet` calls the loader itself (how a host function crosses differs per
// backend) and encodes its value with the codec (values.js: the JSON mapping, codec objects).

import { optionsObject } from './args.js';
import { InvalidArgument } from './errors.js';
import { attempt, encodedEntries, incrOptions, keyList } from './cacheops.js';
import { fillTemplate, parseTemplate } from './template.js';

// Guards the constructor: caches come from `client.cache`.
const INTERNAL = Symbol('redkit.cache.internal');

/** A JSON key part of a wrapped call's arguments. */
function argsKey(args) {
  let text;
  try {
    text = JSON.stringify(args);
  } catch (err) {
    throw new InvalidArgument(`cannot build a cache key from the arguments: ${err.message}`, { cause: err });
  }
  if (text === undefined) throw new InvalidArgument('cannot build a cache key from the arguments');
  return text;
}

/** The arguments without trailing `undefined`s: `f(7)` and `f(7, undefined)` are one call. */
function trimmed(args) {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return n === args.length ? args : args.slice(0, n);
}

/**
 * Wrap `fn` so that a call with the same arguments is served from `cache`.
 *
 * `opts.key` is a function of the call's arguments (called with the call's `this`)
 * returning the cache key; a template (`'user:{0}'`, `'team:{teamId}'`, `'{this.id}:{0}'`,
 * see template.js); or a string prefix (the key is then `prefix:` + the JSON of the
 * arguments, trailing `undefined`s dropped, the receiver left out). Without it the prefix
 * is `fn.name` (a bound function's, without `bound `), which must not be empty (anonymous
 * functions must not share one). `opts.tags` may hold templates too; `ttl` is
 * `getOrSet`'s. The wrapper passes its own `this` on to `fn`, so a wrapped method keeps
 * its object.
 */
export function wrap(cache, fn, opts) {
  if (typeof fn !== 'function') throw new InvalidArgument('cache.wrap needs a function');
  const { key, tags, ...setOpts } = optionsObject(opts, 'wrap options') ?? {};
  let keyOf;
  if (typeof key === 'function') {
    keyOf = (self, args) => key.apply(self, args);
  } else {
    const template = typeof key === 'string' ? parseTemplate(key, 'wrap key') : null;
    const prefix = key ?? fn.name.replace(/^bound /, '');
    if (template !== null) {
      keyOf = (self, args) => fillTemplate(template, self, args, 'wrap key');
    } else if (typeof prefix !== 'string' || prefix === '') {
      throw new InvalidArgument('cache.wrap needs a `key` option (a string or a function) for an anonymous function');
    } else {
      keyOf = (self, args) => `${prefix}:${argsKey(trimmed(args))}`;
    }
  }
  let tagsOf = () => tags;
  const parsed = Array.isArray(tags) ? tags.map((t) => (typeof t === 'string' ? parseTemplate(t, 'wrap tag') : null)) : [];
  if (parsed.some((p) => p !== null)) {
    tagsOf = (self, args) => tags.map((t, i) => (parsed[i] === null ? t : fillTemplate(parsed[i], self, args, 'wrap tag')));
  }
  /** @this {unknown} */
  return async function memoized(...args) {
    const callOpts = tags === undefined ? setOpts : { ...setOpts, tags: tagsOf(this, args) };
    return cache.getOrSet(keyOf(this, args), () => fn.apply(this, args), callOpts);
  };
}

/** One cache namespace; from `client.cache(namespace, opts)`. */
export class Cache {
  #backend;
  #encode;

  /** @internal see `makeCache`. */
  constructor(token, backend, encode) {
    if (token !== INTERNAL) throw new InvalidArgument('use client.cache(namespace, opts) to make a cache');
    this.#backend = backend;
    this.#encode = encode;
  }

  /**
   * The fresh value under `key`, or `null` on a miss; `opts.default`, when given, is what a
   * miss resolves to instead, so a cached `null` is told apart from a miss. One GET.
   */
  get(key, opts) {
    if (opts === undefined) return this.#backend.get(key);
    let missing;
    try {
      const o = optionsObject(opts, 'get options') ?? {};
      for (const name of Object.keys(o)) {
        if (name !== 'default') throw new InvalidArgument(`unknown get option ${JSON.stringify(name)} (expected default)`);
      }
      if (!('default' in o)) return this.#backend.get(key);
      missing = o.default;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#backend.getOr(key, missing);
  }

  /** Write-through: store `value` (with the namespace ttl, or `opts.ttl`) under `opts.tags`. */
  set(key, value, opts) {
    let raw;
    try {
      raw = this.#encode(value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#backend.set(key, raw, opts);
  }

  /** Delete entries: `delete('a', 'b')`; resolves to how many existed. */
  delete(...keys) {
    if (keys.length === 1 && Array.isArray(keys[0])) {
      return Promise.reject(new InvalidArgument('delete takes keys as separate arguments: delete(...keys)'));
    }
    return this.#backend.delete(keys);
  }

  /** Every entry carrying any of `tags` reads as a miss from now on; resolves to how many were deleted. */
  invalidateTags(tags) {
    return this.#backend.invalidateTags(tags);
  }

  /**
   * Cache-aside: the fresh value, or `await loader()` (sync or async) stored and returned.
   * One loader runs per key at a time (in this process, and across processes with the
   * lock option). A loader that throws stores nothing and its error reaches the caller as
   * thrown.
   */
  getOrSet(key, loader, opts) {
    if (typeof loader !== 'function') return Promise.reject(new InvalidArgument('loader must be a function'));
    return this.#backend.getOrSet(key, loader, opts);
  }

  /** Each key's fresh value, or `null`, in order. One round trip (MGET). */
  getMany(keys) {
    return attempt(() => this.#backend.getMany(keyList(keys)));
  }

  /** Write-through of several entries (an object or a Map of key to value) with one
   *  `opts` (`ttl`, `tags`). One round trip. */
  setMany(entries, opts) {
    return attempt(() => this.#backend.setMany(...encodedEntries(entries, this.#encode), opts));
  }

  /** Delete entries given as an array; resolves to how many existed. One round trip (DEL). */
  deleteMany(keys) {
    return attempt(() => this.#backend.delete(keyList(keys)));
  }

  /** Whether `key` holds a fresh entry (one `get` would return). */
  exists(key) {
    return this.#backend.exists(key);
  }

  /** How many ms `key`'s entry stays fresh, or `null` when it holds none. */
  ttl(key) {
    return this.#backend.ttl(key);
  }

  /** Keep `key`'s fresh entry fresh for `ttl` from now, its value unchanged; resolves to
   *  whether there was one. */
  touch(key, ttl) {
    return this.#backend.touch(key, ttl);
  }

  /** Add `by` (default 1, a whole number) to the counter under `key`; resolves to its new
   *  value. A missing counter starts from 0 and lives `opts.ttl` (the namespace's by
   *  default); later calls keep that expiry. `get` reads a counter back as a number. */
  incr(key, by, opts) {
    return attempt(() => this.#backend.incr(key, by, incrOptions(opts)));
  }

  /** Delete every entry of the namespace in bounded steps (SCAN, never KEYS); resolves to
   *  how many were deleted. */
  clear() {
    return this.#backend.clear();
  }

  /** `{ hits, misses, staleServes, nearHits, loaderCalls, errors }` since this cache was made. */
  stats() {
    return this.#backend.stats();
  }

  /** Memoize `fn` through `getOrSet`: `{ key, ttl, tags }` (see `wrap`). */
  wrap(fn, opts) {
    return wrap(this, fn, opts);
  }
}

/** `client.cache(...)` over a backend cache; `encode` is the codec's (value to what `set` stores). */
export function makeCache(backend, encode) {
  return new Cache(INTERNAL, backend, encode);
}
