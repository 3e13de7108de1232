// A Worker that loads the package the way Cloudflare Workers do (the `workerd` entry, the
// .wasm imported as a compiled module) and exercises it; run by workerd.test.mjs in the
// real workerd runtime through Miniflare.
import { Client, InvalidArgument, debugPanic } from '../js/workers.js';

export default {
  async fetch(request, env) {
    const cache = Client.rest({ url: env.URL, token: env.TOKEN, prefix: env.PREFIX }).cache('w');
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
    const panic = await debugPanic(true).catch((e) => e.code);
    const afterPanic = await cache.getOrSet('k2', () => 'after');
    return Response.json({ first, second, calls, badKey, panic, afterPanic });
  },
};
