// Compiled (never run) by types.test.mjs with `tsc --noEmit --strict`: the hand-written
// index.d.ts must describe the API as the examples use it.
import {
  Client, InvalidArgument, RedkitError, rateLimitAnswer, type HealthReport, type Job, type JobCounts, type JobState, type RateLimitResult,
} from 'redkit-wasm';

interface User {
  id: string;
  name: string;
}

export async function usage(env: { URL: string; TOKEN: string }, ioredisLike: { callBuffer(c: string, ...a: unknown[]): Promise<unknown> }) {
  const rest = Client.rest({ url: env.URL, token: env.TOKEN, timeout: 2_000, retries: 2, retryBackoffMax: 500, prefix: 'app' });
  const adapter = Client.adapter(ioredisLike, { prefix: 'app' });
  const fn = Client.adapter(async (args) => args.length);
  const t: 'rest' | 'adapter' = rest.transport;
  const report: HealthReport = await adapter.check();
  await fn.ping();
  const users = rest.cache<User>('users', { ttl: 3_600_000, jitter: 300_000, staleTtl: 60_000, codec: 'json' });
  const u: User | null = await users.get('user:42');
  await users.set('user:42', { id: '42', name: 'Ada' }, { ttl: 1_000, tags: ['team:7'] });
  const n: number = await users.delete('a', 'b');
  const loaded: User = await users.getOrSet('user:43', async () => ({ id: '43', name: 'Grace' }), { tags: ['team:7'] });
  const dropped: number = await users.invalidateTags(['team:7']);
  const many: (User | null)[] = await users.getMany(['user:42', 'user:43']);
  await users.setMany({ a: { id: '1', name: 'A' } }, { ttl: '5m', tags: ['t'] });
  const deletedMany: number = await users.deleteMany(['a']);
  const there: boolean = await users.exists('a');
  const left: number | null = await users.ttl('a');
  const touched: boolean = await users.touch('a', 60_000);
  const views: number = await rest.cache('counters').incr('views', 1, { ttl: '1d' });
  const cleared: number = await users.clear();
  const { hits, misses, staleServes, nearHits, loaderCalls, errors } = users.stats();
  console.log(many, deletedMany, there, left, touched, views, cleared, hits, misses, staleServes, nearHits, loaderCalls, errors);
  const find = users.wrap(async (id: string) => ({ id, name: 'x' }), { key: (id) => `user:${id}`, ttl: 1_000 });
  const found: User = await find('44');
  // A default tells a miss from a cached null; a codec object's decode type is the cache's.
  const MISSING = Symbol('missing');
  const told: User | null | typeof MISSING = await users.get('user:42', { default: MISSING });
  const upper = rest.cache('upper', { codec: { encode: (v: string) => v.toUpperCase(), decode: (b: Uint8Array) => new TextDecoder().decode(b) } });
  const shout: string | null = await upper.get('k');
  console.log(told, shout);
  try {
    await users.get('');
  } catch (e) {
    if (e instanceof InvalidArgument) console.log(e.code);
    if (e instanceof RedkitError) console.log(e.code.toUpperCase());
  }
  const api = rest.rateLimiter('api', {
    limit: 100, window: 60_000, algorithm: 'sliding_window', limits: [{ limit: 1_000, window: 3_600_000 }],
    countDenied: false, onError: 'allow', timeout: 200, localBlock: true, clock: 'server',
    insurance: true, circuitBreaker: '1s',
  });
  const bucket = adapter.rateLimiter('bucket', { algorithm: 'gcra', burst: 5, limits: [{ limit: 2, window: 10, burst: 1 }] });
  const r: RateLimitResult = await api.limit('user:42', { cost: 2 });
  const { allowed, remaining, resetAfterMs, retryAfterMs } = await bucket.limit('ip', { nowMs: Date.now() });
  const why: 'limit' | 'local_block' | 'error' | 'insurance' | 'allow_list' | 'deny_list' = (await api.peek('user:42')).reason;
  const failures: number = api.errors();
  rest.onIncident((i) => console.log(i.pattern, i.fallback, i.count, i.error.code, failures));
  rest.onIncident(null);
  if (r.error) console.log(r.error.code, r.limit);
  await api.reset('user:42');
  const login = rest.rateLimiter('login', { rate: '5/minute;100/day', blockFor: '15m', allowList: ['ok'], denyList: ['bad'] });
  const taken: RateLimitResult = await login.penalty('ip', 2, { nowMs: Date.now() });
  const waited: RateLimitResult = await login.wait('ip', { cost: 1, timeout: 2_000 });
  const policy: string = login.policy;
  const answer = rateLimitAnswer(taken, policy);
  console.log((await login.reward('ip', 1)).remaining, waited.allowed, answer.status);
  const emails = rest.queue<{ to: string }, string>('emails', {
    attempts: 3, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: { age: 86_400 }, removeOnFail: 100,
  });
  const job: Job<{ to: string }, string> = await emails.add('welcome', { to: 'a@b.c' }, { jobId: 'w-1', delay: '5s' });
  const to: string = job.data.to;
  const bulk = await emails.addBulk([{ name: 'x', data: { to: 'x' }, opts: { priority: 1 } }]);
  const state: JobState | null = await (await emails.getJob(bulk[0].id))!.state();
  const counts: JobCounts = await emails.counts();
  const waiting: Job<{ to: string }, string>[] = await emails.getJobs(['waiting', 'delayed'], 0, -1);
  await emails.pause();
  const paused: boolean = await emails.isPaused();
  await emails.resume();
  const moved: number = await emails.retryJobs({ state: 'failed' });
  const gone: boolean = (await emails.cancel(job.id)) && (await emails.remove(job.id));
  await rest.close();
  return { to, state, counts, waiting, paused, moved, gone, t, report, u, n, loaded, dropped, found, allowed, remaining, resetAfterMs, retryAfterMs, why };
}
