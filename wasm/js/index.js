// Default entry (Node, Deno, browsers, bundlers): the wasm is inlined as base64 so the
// package needs no file system, no fetch of a relative URL and no Node built-ins.
import wasmBase64 from '../pkg/wasm_inline.js';
import { setModule } from './runtime.js';

const bin = atob(wasmBase64);
const bytes = new Uint8Array(bin.length);
for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
setModule(bytes);

export * from './api.js';
export * from './errors.js';
export { Cache } from './facade/cache.js';
export { RateLimiter } from './facade/ratelimit.js';
export { Job, Queue } from './facade/queue.js';
export { rateLimitAnswer, withRateLimit } from './http.js';
