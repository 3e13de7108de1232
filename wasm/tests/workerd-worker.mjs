// A Worker that loads the package the way Cloudflare Workers do (the `workerd` entry, the
// .wasm imported as a compiled module) and exercises it; run by workerd.test.mjs in the
// real workerd runtime through Miniflare.
import { Client, InvalidArgument } from '../js/workers.js';
import { debugPanic } from '../js/debug.js';

export default {
  async fetch(request, env) {
    const client = Client.rest({ url: env.URL, token: env.TOKEN, prefix: env.PREFIX });
    const cache = client.cache('w');
    let calls = 0;
    const first = await cache.getOrSet('k', () => {
      calls += 1;
      return { hello: 'workerd' };
    });
    const second = await cache.getOrSet('k', () => {
      calls += 1;
      return 'not cached?';
    });
    const badKey = await cache.get('').catch((e) => e instanceof InvalidArgument && e.code);
    const limiter = client.rateLimiter('w', { limit: 2, window: 60_000, onError: 'allow', timeout: 2_000 });
    const decisions = [];
    for (let i = 0; i < 3; i++) {
      const r = await limiter.limit('ip');
      decisions.push([r.allowed, r.remaining, r.reason]);
    }
    const badCost = await limiter.limit('ip', { cost: 0 }).catch((e) => e instanceof InvalidArgument && e.code);
    const panic = await debugPanic(true).catch((e) => e.code);
    const afterPanic = await cache.getOrSet('k2', () => 'after');
    return Response.json({ first, second, calls, badKey, decisions, badCost, panic, afterPanic });
  },
};
