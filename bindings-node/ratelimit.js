'use strict'
// The Node backend of the shared `RateLimiter` (facade/ratelimit.js, from the repository's
// js/): decisions sent to the native limiter through the client's completion queue, the
// native result string (see `encode` in src/ratelimit.rs) read back as the result object.
// Every decision is the Rust core's.

const { callNative, fromNative } = require('./errors.js')
const { RateLimiter, makeRateLimiter } = require('./facade/ratelimit.js')

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

/** The backend limiter over `nativeLimiter` (see `RateLimiterBackend` in facade/ratelimit.d.ts). */
function backend(nativeLimiter, dispatch) {
  // The operations as plain functions: a cheaper call than a native method.
  const fns = nativeLimiter.functions()
  return {
    limit: (identifier, cost, nowMs) => dispatch.submit((op) => fns.limit(op, identifier, cost, nowMs), decode, null),
    peek: (identifier, nowMs) => dispatch.submit((op) => fns.peek(op, identifier, nowMs), decode, null),
    reset: (identifier) => dispatch.submit((op) => fns.reset(op, identifier), null, null),
    errors: () => nativeLimiter.errors(),
    adjust: (identifier, n, reward, nowMs) =>
      dispatch.submit((op) => (reward ? fns.reward(op, identifier, n, nowMs) : fns.penalty(op, identifier, n, nowMs)), decode, null),
    wait: (identifier, cost, timeout) => dispatch.submit((op) => fns.wait(op, identifier, cost, timeout), decode, null),
    policy: nativeLimiter.policy(),
  }
}

/** `client.rateLimiter(name, opts)` over the native client. */
function rateLimiter(nativeClient, dispatch, name, opts) {
  // The core reads (and checks) every option.
  const nativeLimiter = callNative(() => nativeClient.rateLimiter(name, opts))
  return makeRateLimiter(backend(nativeLimiter, dispatch))
}

module.exports = { RateLimiter, rateLimiter }
