// The seed's caching patterns as an edge function (Cloudflare Workers / Hono style):
// cache-aside with a jittered TTL, delete-on-write, and tag invalidation — over the
// Upstash REST protocol, so it runs where a TCP Redis connection cannot.
//
//   GET  /users/:id          cache-aside (one loader per key, even under a stampede)
//   PUT  /users/:id          update the database, then delete the cached entry
//   POST /users/refresh      invalidate every cached user at once (tag), e.g. after an import
//
// env: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN (any Upstash-compatible endpoint,
// e.g. redkit-gateway in front of your own Redis).

import { Hono } from 'hono';
import { Client } from 'redkit-wasm';
import { db } from './db.js';

// One client per isolate, shared by every request (the seed's first lesson): the REST
// transport is stateless, so this is cheap and safe.
let users;
function usersCache(env) {
  if (!users) {
    const client = Client.rest({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, timeout: 2_000 });
    // 60 minutes, plus up to 5 minutes of jitter so keys written together do not expire together.
    users = client.cache('users', { ttl: 3_600_000, jitter: 300_000 });
  }
  return users;
}

const app = new Hono();

app.get('/users/:id', async (c) => {
  const id = c.req.param('id');
  const user = await usersCache(c.env).getOrSet(`user:${id}`, () => db.findUser(id), { tags: ['users'] });
  if (!user) return c.json({ error: `user ${id} not found` }, 404);
  return c.json(user);
});

app.put('/users/:id', async (c) => {
  const id = c.req.param('id');
  const updated = await db.updateUser(id, await c.req.json());
  if (!updated) return c.json({ error: `user ${id} not found` }, 404);
  await usersCache(c.env).delete(`user:${id}`); // delete on write: always consistent
  return c.json(updated);
});

app.post('/users/refresh', async (c) => {
  const dropped = await usersCache(c.env).invalidateTags(['users']);
  return c.json({ dropped });
});

app.onError((err, c) => c.json({ error: err.message, code: err.code ?? 'ERR_INTERNAL' }, 500));

export default app; // Workers, Deno, Bun: `fetch(request, env, ctx)`
