// Cloudflare Workers entry (the `workerd` export condition): Workers forbid compiling wasm
// from bytes at run time, so the .wasm file is imported as a module (wrangler bundles it).
import wasmModule from '../pkg/redkit_wasm_bg.wasm';
import { setModule } from './runtime.js';

setModule(wasmModule);

export * from './api.js';
export * from './errors.js';
export { Cache } from './facade/cache.js';
export { RateLimiter } from './facade/ratelimit.js';
export { Job, Queue } from './facade/queue.js';
export { rateLimitAnswer, withRateLimit } from './http.js';
