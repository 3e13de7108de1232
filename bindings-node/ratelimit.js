'use strict'
// `RateLimiter`: the JS face of the native limiter. It only converts: arguments in, the
// native result line (`allowed,limit,remaining,resetAfterMs,retryAfterMs,reason[,error]`,
// see src/ratelimit.rs) out as the result object. Every decision is the Rust core's.

const { InvalidArgument, fromNative } = require('./errors.js')

// Guards the constructor: limiters come from `client.rateLimiter`.
const INTERNAL = Symbol('redkit.ratelimit.internal')

/** The native line as `{allowed, limit, remaining, resetAfterMs, retryAfterMs, reason, error?}`. */
function decode(line) {
  const parts = line.split(',', 6)
  const result = {
    allowed: parts[0] === '1',
    limit: +parts[1],
    remaining: +parts[2],
    resetAfterMs: +parts[3],
    retryAfterMs: +parts[4],
    reason: parts[5],
  }
  // The covered error (reason `error`) is everything after the sixth comma.
  let at = -1
  for (let i = 0; i < 6; i++) at = line.indexOf(',', at + 1)
  if (at !== -1) result.error = fromNative(new Error(line.slice(at + 1)))
  return result
}

/** `opts` must be absent or an object: anything else is a mistake worth reporting. */
function optionsObject(opts, what) {
  if (opts === undefined || opts === null) return {}
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new InvalidArgument(`${what} must be an object`)
  return opts
}

/** A named rate limiter; from `client.rateLimiter(name, opts)`. */
class RateLimiter {
  #native
  #dispatch

  constructor(token, nativeLimiter, dispatch) {
    if (token !== INTERNAL) throw new InvalidArgument('use client.rateLimiter(name, opts) to make a rate limiter')
    // The operations as plain functions: a cheaper call than a native method.
    this.#native = nativeLimiter.functions()
    this.#dispatch = dispatch
  }

  /** One atomic decision: `{ cost }` (default 1), `nowMs` for a caller-supplied clock. */
  limit(identifier, opts) {
    let o
    try {
      o = optionsObject(opts, 'limit options')
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#dispatch.submit((id) => this.#native.limit(id, identifier, o.cost, o.nowMs), decode, null)
  }

  /** What a request of cost 1 would get now (or at `{ nowMs }`), consuming nothing. */
  peek(identifier, opts) {
    let o
    try {
      o = optionsObject(opts, 'peek options')
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#dispatch.submit((id) => this.#native.peek(id, identifier, o.nowMs), decode, null)
  }

  /** Forget `identifier`: its next request starts from a full limit. */
  reset(identifier) {
    return this.#dispatch.submit((id) => this.#native.reset(id, identifier), null, null)
  }
}

/** `limits` entries must be objects: napi reads fields off them (and a `null` would surface
 *  as a bare TypeError rather than an InvalidArgument). Field types are napi's to check. */
function checkRules(limits) {
  if (limits === undefined || limits === null) return
  if (!Array.isArray(limits)) throw new InvalidArgument('limits must be an array of { limit, window, burst? } objects')
  limits.forEach((r, i) => optionsObject(r ?? 0, `limits[${i}]`))
}

/** `client.rateLimiter(name, opts)` over the native client. */
function rateLimiter(nativeClient, dispatch, name, opts) {
  const o = optionsObject(opts, 'rateLimiter options')
  checkRules(o.limits)
  let nativeLimiter
  try {
    nativeLimiter = nativeClient.rateLimiter(name, o)
  } catch (err) {
    throw fromNative(err)
  }
  return new RateLimiter(INTERNAL, nativeLimiter, dispatch)
}

module.exports = { RateLimiter, rateLimiter }
