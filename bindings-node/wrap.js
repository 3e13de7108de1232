'use strict'
// `cache.wrap(fn, opts)`: memoize a function through `cache.getOrSet`. JavaScript sugar
// only; the caching itself is the core's.

const { InvalidArgument } = require('./errors.js')

function argsKey(args) {
  try {
    const text = JSON.stringify(args)
    if (text !== undefined) return text
  } catch (err) {
    throw new InvalidArgument(`cannot build a cache key from the arguments: ${err.message}`, { cause: err })
  }
  throw new InvalidArgument('cannot build a cache key from the arguments')
}

/**
 * Wrap `fn` so that a call with the same arguments is served from `cache`.
 *
 * `opts.key` is either a function of the call's arguments returning the cache key, or a
 * string prefix (the key is then `prefix:` + the JSON of the arguments). Without it the
 * prefix is `fn.name`, which must not be empty. The other options (`ttl`, `tags`) are
 * those of `getOrSet`.
 */
function wrap(cache, fn, opts) {
  if (typeof fn !== 'function') throw new InvalidArgument('cache.wrap needs a function')
  const { key, ...setOpts } = opts ?? {}
  let keyOf
  if (typeof key === 'function') {
    keyOf = key
  } else {
    const prefix = key ?? fn.name
    if (typeof prefix !== 'string' || prefix === '') {
      throw new InvalidArgument('cache.wrap needs a `key` option (a string or a function) for an anonymous function')
    }
    keyOf = (...args) => `${prefix}:${argsKey(args)}`
  }
  /** @this {unknown} */
  return async function memoized(...args) {
    return cache.getOrSet(keyOf(...args), () => fn.apply(this, args), setOpts)
  }
}

module.exports = { wrap }
