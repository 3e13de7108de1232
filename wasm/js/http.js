// The edge glue of the rate limiter: the HTTP meaning of a decision is the core's (the
// same status, headers and body as Express, Flask and Starlette give); this file only
// turns it into fetch-API Responses.

import { InvalidArgument } from './errors.js';
import { call, glue } from './runtime.js';

/**
 * `{ status, headers, body }` for a decision: `body` null means the request goes on and
 * its response gets `headers` (none when Redis failed open); otherwise the answer is a
 * refusal (429 denied, 403 deny-listed, 503 Redis failed and onError denied) with a JSON
 * body. `policy` (the limiter's `policy`) is sent as RateLimit-Policy.
 */
export function rateLimitAnswer(result, policy) {
  if (result === null || typeof result !== 'object') throw new InvalidArgument('rateLimitAnswer needs a rate limit result');
  if (policy !== undefined && typeof policy !== 'string') throw new InvalidArgument('rateLimitAnswer policy must be a string');
  return call(() => glue.rate_limit_http(
    result.allowed === true, result.limit, result.remaining, result.resetAfterMs, result.retryAfterMs, String(result.reason),
    policy,
  ));
}

/**
 * Wrap a fetch-style handler `(request, ...rest) => Response` (one route: each route may
 * wrap its handler with its own limiter): each request is first decided by `limiter`; a refusal is answered at once, and an admitted request's response
 * gets the RateLimit-* headers. `key(request)` (sync or async) gives the identifier
 * (default: the `x-forwarded-for` client address; null or undefined lets the request
 * through unlimited); `cost(request)` its cost (default 1); `onDenied(request, result,
 * answer)` builds the Response of a refusal instead of the default (`answer` is
 * `rateLimitAnswer(result)`: its status, headers and JSON body).
 */
export function withRateLimit(limiter, handler, opts = {}) {
  if (limiter === null || typeof limiter !== 'object' || typeof limiter.limit !== 'function') {
    throw new InvalidArgument('withRateLimit needs a RateLimiter (from client.rateLimiter(name, opts))');
  }
  if (typeof handler !== 'function') throw new InvalidArgument('withRateLimit needs a handler function');
  const { key = clientAddress, cost, onDenied } = opts;
  if (typeof key !== 'function') throw new InvalidArgument('withRateLimit option key must be a function');
  if (cost !== undefined && typeof cost !== 'function') throw new InvalidArgument('withRateLimit option cost must be a function');
  if (onDenied !== undefined && typeof onDenied !== 'function') throw new InvalidArgument('withRateLimit option onDenied must be a function');
  return async function rateLimited(request, ...rest) {
    const identifier = await key(request);
    if (identifier === null || identifier === undefined) return handler(request, ...rest);
    const result = await limiter.limit(String(identifier), cost === undefined ? undefined : { cost: await cost(request) });
    const answer = rateLimitAnswer(result, limiter.policy);
    if (answer.body !== null) {
      if (onDenied !== undefined) return onDenied(request, result, answer);
      return new Response(answer.body, {
        status: answer.status,
        headers: [['Content-Type', 'application/json'], ...answer.headers],
      });
    }
    const response = await handler(request, ...rest);
    if (answer.headers.length === 0) return response;
    // A fetched Response's headers are immutable: answer with a copy.
    const out = new Response(response.body, response);
    for (const [name, value] of answer.headers) out.headers.set(name, value);
    return out;
  };
}

function clientAddress(request) {
  const forwarded = request.headers.get('x-forwarded-for');
  return forwarded ? forwarded.split(',')[0].trim() : 'unknown';
}
