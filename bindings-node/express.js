'use strict'
// Express (and Connect-style) middleware over a redkit RateLimiter: one decision per
// request, the IETF draft headers (RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset in
// seconds) and, on a denial, 429 with Retry-After and a JSON body. The decision itself is
// the limiter's (the Rust core); this file only maps it onto HTTP.

const { InvalidArgument } = require('./errors.js')

const seconds = (ms) => Math.ceil(ms / 1000)

/**
 * `app.use(rateLimit(limiter, { key, cost, headers }))`:
 * - `key(req)` (sync or async): the identifier; default `req.ip` (behind a proxy, set
 *   Express's `trust proxy`), or the socket's address without Express. `null` or
 *   `undefined` lets the request through unlimited (an allowlist, say).
 * - `cost(req)`: cost units of this request (default 1).
 * - `headers`: set the RateLimit-* headers (default true).
 * The result is left on `req.rateLimit`. When Redis could not decide (`reason: 'error'`)
 * the limiter's `onError` chose: allowed requests go on without RateLimit-* headers (their
 * numbers mean nothing then); denied ones get 503, not 429, since the client did nothing
 * wrong; with `onError: 'raise'` the error goes to `next(err)`.
 */
function rateLimit(limiter, opts = {}) {
  if (limiter === null || typeof limiter !== 'object' || typeof limiter.limit !== 'function') {
    throw new InvalidArgument('rateLimit needs a RateLimiter (from client.rateLimiter(name, opts))')
  }
  const { key = (req) => req.ip ?? req.socket?.remoteAddress, cost, headers = true } = opts
  if (typeof key !== 'function') throw new InvalidArgument('rateLimit option key must be a function')
  if (cost !== undefined && typeof cost !== 'function') throw new InvalidArgument('rateLimit option cost must be a function')

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
    if (result.reason === 'error') {
      if (result.allowed) return next()
      res.setHeader('Retry-After', '1')
      return sendJson(res, 503, { error: 'rate limiter unavailable', reason: 'error' })
    }
    if (headers) {
      res.setHeader('RateLimit-Limit', String(result.limit))
      res.setHeader('RateLimit-Remaining', String(result.remaining))
      res.setHeader('RateLimit-Reset', String(seconds(result.resetAfterMs)))
    }
    if (result.allowed) return next()
    // Never 0: a client told "retry after 0 s" retries at once and is denied again.
    res.setHeader('Retry-After', String(Math.max(1, seconds(result.retryAfterMs))))
    return sendJson(res, 429, {
      error: 'too many requests',
      limit: result.limit,
      remaining: result.remaining,
      retryAfterMs: result.retryAfterMs,
      reason: result.reason,
    })
  }
}

/** Plain `http.ServerResponse` calls, so the middleware needs nothing from Express itself. */
function sendJson(res, status, body) {
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.end(JSON.stringify(body))
}

module.exports = { rateLimit }
