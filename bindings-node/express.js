'use strict'
// Express (and Connect-style) middleware over a redkit RateLimiter: one decision per
// request, the IETF draft headers (RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset in
// seconds, RateLimit-Policy) and, on a denial, 429 with Retry-After and a JSON body. The decision and its
// HTTP meaning are the Rust core's (the same answer as Flask, Starlette and the edge give);
// this file only writes it.

const { InvalidArgument } = require('./errors.js')
const { rateLimitHttp } = require('./index.js')

/**
 * `app.use(rateLimit(limiter, { key, cost, headers }))`, or per route
 * `app.post('/login', rateLimit(loginLimiter), handler)` (each route its own limiter):
 * - `key(req)` (sync or async): the identifier; default `req.ip` (behind a proxy, set
 *   Express's `trust proxy`), or the socket's address without Express. `null` or
 *   `undefined` lets the request through unlimited (an allowlist, say).
 * - `cost(req)`: cost units of this request (default 1).
 * - `headers`: set the RateLimit-* headers (default true; Retry-After is always set).
 * - `onDenied(req, res, result)`: answers a refused request instead of the default JSON
 *   body (the RateLimit-* and Retry-After headers are already set on `res`); it must end
 *   the response.
 * The result is left on `req.rateLimit`. When Redis could not decide (`reason: 'error'`)
 * the limiter's `onError` chose: allowed requests go on without RateLimit-* headers (their
 * numbers mean nothing then); denied ones get 503, not 429, since the client did nothing
 * wrong; with `onError: 'raise'` the error goes to `next(err)`.
 */
function rateLimit(limiter, opts = {}) {
  if (limiter === null || typeof limiter !== 'object' || typeof limiter.limit !== 'function') {
    throw new InvalidArgument('rateLimit needs a RateLimiter (from client.rateLimiter(name, opts))')
  }
  const { key = (req) => req.ip ?? req.socket?.remoteAddress, cost, headers = true, onDenied } = opts
  if (typeof key !== 'function') throw new InvalidArgument('rateLimit option key must be a function')
  if (cost !== undefined && typeof cost !== 'function') throw new InvalidArgument('rateLimit option cost must be a function')
  if (onDenied !== undefined && typeof onDenied !== 'function') throw new InvalidArgument('rateLimit option onDenied must be a function')

  return async function redkitRateLimit(req, res, next) {
    let result
    try {
      const identifier = await key(req)
      if (identifier === null || identifier === undefined) return next()
      result = await limiter.limit(String(identifier), cost === undefined ? undefined : { cost: await cost(req) })
    } catch (err) {
      return next(err)
    }
    req.rateLimit = result
    const answer = rateLimitHttp(
      result.allowed, result.limit, result.remaining, result.resetAfterMs, result.retryAfterMs, result.reason,
      limiter.policy,
    )
    for (const [name, value] of answer.headers) {
      if (headers || name === 'Retry-After') res.setHeader(name, value)
    }
    if (answer.body === undefined || answer.body === null) return next()
    res.statusCode = answer.status
    if (onDenied !== undefined) {
      try {
        return await onDenied(req, res, result)
      } catch (err) {
        return next(err)
      }
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
    res.end(answer.body)
  }
}

module.exports = { rateLimit }
