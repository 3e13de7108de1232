// Calls the rate limited edge API (api-worker.js + ratelimit.js) with real Request objects
// against redkit-gateway in front of a real redis-server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../wasm/tests/harness.mjs';
import { useServers } from './servers.test-helper.mjs';
import worker from './api-worker.js';
import { clientIp } from './ratelimit.js';

const state = useServers();

let ips = 0;
/** A client address no other test uses (the limiter's keys live in the shared server). */
const newIp = () => `203.0.113.${(ips += 1)}`;

const get = (path, ip, e = state.env, headers = {}) =>
  worker.fetch(new Request(`https://edge.example${path}`, { headers: { 'cf-connecting-ip': ip, ...headers } }), e);

test('allowed requests carry RateLimit-* headers, the sixth in 10 s is a 429 with Retry-After', async () => {
  const ip = newIp();
  for (let i = 1; i <= 5; i++) {
    const r = await get('/api/hello', ip);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { hello: 'world' });
    assert.equal(r.headers.get('ratelimit-limit'), '5');
    assert.equal(r.headers.get('ratelimit-remaining'), String(5 - i));
    const reset = Number(r.headers.get('ratelimit-reset'));
    assert.ok(reset >= 2 * i - 1 && reset <= 2 * i, `RateLimit-Reset ${reset} after ${i}`); // GCRA: 2 s per request
    assert.equal(r.headers.get('retry-after'), null);
  }
  const denied = await get('/api/hello', ip);
  assert.equal(denied.status, 429);
  assert.equal(denied.headers.get('content-type'), 'application/json');
  const body = await denied.json();
  assert.equal(body.error, 'rate limited');
  assert.ok(body.retryAfterMs > 1_000 && body.retryAfterMs <= 2_000, `${body.retryAfterMs}`);
  assert.equal(denied.headers.get('retry-after'), '2');
  assert.equal(denied.headers.get('ratelimit-remaining'), '0');
  assert.equal(denied.headers.get('ratelimit-limit'), '5');
});

test('each client IP has its own limit; unlimited routes are untouched', async () => {
  const a = newIp();
  const b = newIp();
  for (let i = 0; i < 5; i++) assert.equal((await get('/api/hello', a)).status, 200);
  assert.equal((await get('/api/hello', a)).status, 429);
  assert.equal((await get('/api/hello', b)).status, 200);
  const health = await get('/health', a);
  assert.equal(health.status, 200);
  assert.equal(health.headers.get('ratelimit-limit'), null);
  // The decision is in Redis, in the shared layout: any runtime sees the same state.
  const ttl = await state.servers.redis.pttl(`rk:{rl:edge-api}:g:ip:${a}`);
  assert.ok(ttl > 0 && ttl <= 10_000, `pttl ${ttl}`);
});

test('a denied client is let in again after Retry-After', async () => {
  const ip = newIp();
  for (let i = 0; i < 5; i++) await get('/api/hello', ip);
  const denied = await get('/api/hello', ip);
  assert.equal(denied.status, 429);
  const { retryAfterMs } = await denied.json();
  await new Promise((r) => setTimeout(r, retryAfterMs + 20));
  const again = await get('/api/hello', ip);
  assert.equal(again.status, 200);
  assert.equal(again.headers.get('ratelimit-remaining'), '0');
});

test('requests weigh their cost: a 5 KB upload spends the whole burst', async () => {
  const ip = newIp();
  const upload = (kb) =>
    worker.fetch(new Request('https://edge.example/upload', {
      // What a real client sends with its body (a Request made in JS does not add it).
      method: 'POST', headers: { 'cf-connecting-ip': ip, 'content-length': String(kb * 1024) }, body: 'x'.repeat(kb * 1024),
    }), state.env);
  const r = await upload(5);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('ratelimit-remaining'), '0');
  assert.equal((await get('/api/hello', ip)).status, 429);
});

test('the client IP comes from the edge headers', () => {
  const req = (headers) => new Request('https://edge.example/', { headers });
  assert.equal(clientIp(req({ 'cf-connecting-ip': '198.51.100.7', 'x-forwarded-for': '10.0.0.1' })), '198.51.100.7');
  assert.equal(clientIp(req({ 'x-forwarded-for': '198.51.100.8, 10.0.0.1' })), '198.51.100.8');
  assert.equal(clientIp(req({ 'x-real-ip': '198.51.100.9' })), '198.51.100.9');
  assert.equal(clientIp(req({})), 'anonymous');
});

test('Redis unreachable: fails open (no headers) or closed (503), within the timeout', async () => {
  const port = await freePort();
  const down = { ...state.env, UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${port}` };
  let started = Date.now();
  const open = await get('/api/hello', newIp(), down);
  assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
  assert.equal(open.status, 200);
  assert.equal(open.headers.get('ratelimit-limit'), null);
  started = Date.now();
  const closed = await get('/api/hello', newIp(), { ...down, RATE_LIMIT_FAIL: 'deny' });
  assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
  assert.equal(closed.status, 503);
  assert.equal((await closed.json()).error, 'rate limiter unavailable');
});
