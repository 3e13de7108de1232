// The edge backend of the facade's everyday cache operations (getMany, setMany, exists,
// ttl, touch, incr, clear, stats) over a wasm cache (src/cache_ops.rs). `wasm()` is the
// live wasm cache, `decode` the codec's decoding of stored bytes (null for a miss).

import { run } from './runtime.js';

export function opsBackend(wasm, decode) {
  return {
    getMany: (keys) => run(() => wasm().get_many(keys)).then((values) => values.map(decode)),
    setMany: async (keys, raws, opts) => {
      await run(() => wasm().set_many(keys, raws, opts));
    },
    exists: (key) => run(() => wasm().exists(key)),
    ttl: (key) => run(() => wasm().ttl(key)),
    touch: (key, ttl) => run(() => wasm().touch(key, ttl)),
    incr: (key, by, opts) => run(() => wasm().incr(key, by, opts)),
    clear: () => run(() => wasm().clear()),
    stats: () => wasm().stats(),
  };
}
