// Rate limiting middleware for a Workers/Hono-style handler: one atomic decision in Redis
// per request (redkit's rate limiter over the REST protocol), the IETF draft headers
// (draft-ietf-httpapi-ratelimit-headers: RateLimit-Limit, RateLimit-Remaining,
// RateLimit-Reset) on every answer, and 429 with Retry-After when the client must wait.
//
//   app.use('/api/*', rateLimit((c) => limiterFor(c.env)));

/** The client's address as the edge sees it: Cloudflare's header, then the first hop of
 *  X-Forwarded-For, then X-Real-IP. Requests without any share one `anonymous` bucket. */
export function clientIp(request) {
  const h = request.headers;
  const forwarded = h.get('x-forwarded-for')?.split(',')[0]?.trim();
  return h.get('cf-connecting-ip') || forwarded || h.get('x-real-ip') || 'anonymous';
}

// The draft counts in seconds; round up so a client that waits that long is never early.
const seconds = (ms) => Math.ceil(ms / 1000);

/**
 * Hono middleware. `limiter(c)` returns the redkit RateLimiter to decide with; `key(c)`
 * names the caller (default: the client IP); `cost(c)` weighs the request (default 1).
 */
export function rateLimit(limiter, { key = (c) => clientIp(c.req.raw), cost = () => 1 } = {}) {
  return async (c, next) => {
    const r = await limiter(c).limit(`ip:${key(c)}`, { cost: cost(c) });
    if (r.reason === 'error') {
      // Redis failed or was too slow and the limiter's onError decided: there are no
      // numbers to report. Fail open goes on; fail closed is an outage, not the client's fault.
      if (r.allowed) return next();
      return c.json({ error: 'rate limiter unavailable', code: r.error?.code }, 503);
    }
    const headers = {
      'RateLimit-Limit': String(r.limit),
      'RateLimit-Remaining': String(r.remaining),
      'RateLimit-Reset': String(seconds(r.resetAfterMs)),
    };
    if (!r.allowed) {
      return c.json(
        { error: 'rate limited', retryAfterMs: r.retryAfterMs },
        429,
        { ...headers, 'Retry-After': String(Math.max(1, seconds(r.retryAfterMs))) },
      );
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  };
}
