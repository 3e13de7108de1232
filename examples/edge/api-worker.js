// An edge API behind the rate limiting middleware (ratelimit.js): 5 requests per 10 s per
// client IP and 100 per hour, decided together in one round trip; GCRA spreads them evenly.
// Fails open: if Redis is down or slower than 300 ms, requests go through.
//
// env: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN (any Upstash-compatible endpoint,
// e.g. redkit-gateway in front of your own Redis); RATE_LIMIT_FAIL ('allow' or 'deny').

import { Hono } from 'hono';
import { Client } from 'redkit-wasm';
import { rateLimit } from './ratelimit.js';

// One limiter per isolate and configuration, shared by every request.
const limiters = new Map();
function limiterFor(env) {
  const onError = env.RATE_LIMIT_FAIL ?? 'allow';
  const id = `${env.UPSTASH_REDIS_REST_URL} ${onError}`;
  if (!limiters.has(id)) {
    const client = Client.rest({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
    limiters.set(id, client.rateLimiter('edge-api', {
      limit: 5,
      window: 10_000,
      limits: [{ limit: 100, window: 3_600_000 }],
      onError,
      timeout: 300,
    }));
  }
  return limiters.get(id);
}

const app = new Hono();

app.use('/api/*', rateLimit((c) => limiterFor(c.env)));

app.get('/api/hello', (c) => c.json({ hello: 'world' }));

// Uploads draw on the same budget, weighed by size: one unit per started KB (at most the 5
// the limit allows at once).
app.post('/upload', rateLimit((c) => limiterFor(c.env), {
  cost: (c) => Math.min(5, Math.max(1, Math.ceil(Number(c.req.header('content-length') ?? 0) / 1024))),
}), (c) => c.json({ stored: true }));

app.get('/health', (c) => c.text('ok')); // not limited

export default app; // Workers, Deno, Bun: `fetch(request, env, ctx)`
