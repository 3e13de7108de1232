'use strict'
// `RateLimiter`: the JS face of the native limiter. It only converts: arguments in, the
// native result string (see `encode` in src/ratelimit.rs) out as the result object. Every
// decision is the Rust core's.

const { InvalidArgument, fromNative } = require('./errors.js')

// Guards the constructor: limiters come from `client.rateLimiter`.
const INTERNAL = Symbol('redkit.ratelimit.internal')

// The native result: the allowed flag, four numbers of four 16-bit code units each, then
// the reason's name and, after a comma, the covered error.
const REASON_AT = 17

/** The number in the four code units from `at`, lowest first. */
function number(s, at) {
  return (
    s.charCodeAt(at) +
    s.charCodeAt(at + 1) * 0x1_0000 +
    s.charCodeAt(at + 2) * 0x1_0000_0000 +
    s.charCodeAt(at + 3) * 0x1_0000_0000_0000
  )
}

/** The native result as `{allowed, limit, remaining, resetAfterMs, retryAfterMs, reason, error?}`. */
function decode(s) {
  const comma = s.indexOf(',', REASON_AT)
  const result = {
    allowed: s.charCodeAt(0) === 1,
    limit: number(s, 1),
    remaining: number(s, 5),
    resetAfterMs: number(s, 9),
    retryAfterMs: number(s, 13),
    reason: comma === -1 ? s.slice(REASON_AT) : s.slice(REASON_AT, comma),
  }
  if (comma !== -1) result.error = fromNative(new Error(s.slice(comma + 1)))
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
    return this.#dispatch.submit((op) => this.#native.limit(op, identifier, o.cost, o.nowMs), decode, null)
  }

  /** What a request of cost 1 would get now (or at `{ nowMs }`), consuming nothing. */
  peek(identifier, opts) {
    let o
    try {
      o = optionsObject(opts, 'peek options')
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#dispatch.submit((op) => this.#native.peek(op, identifier, o.nowMs), decode, null)
  }

  /** Forget `identifier`: its next request starts from a full limit. */
  reset(identifier) {
    return this.#dispatch.submit((op) => this.#native.reset(op, identifier), null, null)
  }
}

/** `client.rateLimiter(name, opts)` over the native client. */
function rateLimiter(nativeClient, dispatch, name, opts) {
  let nativeLimiter
  try {
    // The core reads (and checks) every option.
    nativeLimiter = nativeClient.rateLimiter(name, opts)
  } catch (err) {
    throw fromNative(err)
  }
  return new RateLimiter(INTERNAL, nativeLimiter, dispatch)
}

module.exports = { RateLimiter, rateLimiter }
