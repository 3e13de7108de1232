// `RateLimiter` for both JS packages: the shapes every runtime shares and argument checks,
// over a backend limiter (the Node addon, or the edge's wasm) whose every decision is the
// Rust core's. A backend limiter's `limit(identifier, cost, nowMs)`, `peek(identifier,
// nowMs)`, `reset(identifier)`, `adjust(identifier, n, reward, nowMs)` and
// `wait(identifier, cost, timeout)` return promises; results come back as
// `{allowed, limit, remaining, resetAfterMs, retryAfterMs, reason, error?}`. Its `policy`
// is the RateLimit-Policy header of the limiter's rules.

import { optionsObject } from './args.js';
import { InvalidArgument } from './errors.js';

// Guards the constructor: limiters come from `client.rateLimiter`.
const INTERNAL = Symbol('redkit.ratelimit.internal');

/** A number argument (a cost, a caller-supplied clock), or undefined; NaN is refused here, the range by the core. */
function optionalNumber(v, what) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || Number.isNaN(v)) {
    throw new InvalidArgument(`${what} must be a number, got ${Number.isNaN(v) ? 'NaN' : typeof v}`);
  }
  return v;
}

/** A named rate limiter; from `client.rateLimiter(name, opts)`. */
export class RateLimiter {
  #backend;

  /** @internal see `makeRateLimiter`. */
  constructor(token, backend) {
    if (token !== INTERNAL) throw new InvalidArgument('use client.rateLimiter(name, opts) to make a rate limiter');
    this.#backend = backend;
  }

  /** One atomic decision: `{ cost }` (default 1), `nowMs` for a caller-supplied clock. */
  limit(identifier, opts) {
    let cost;
    let now;
    if (opts !== undefined) {
      try {
        const o = optionsObject(opts, 'limit options', ['cost', 'nowMs']) ?? {};
        cost = optionalNumber(o.cost, 'cost');
        now = optionalNumber(o.nowMs, 'nowMs');
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#backend.limit(identifier, cost, now);
  }

  /** What a request of cost 1 would get now (or at `{ nowMs }`), consuming nothing. */
  peek(identifier, opts) {
    let now;
    try {
      now = optionalNumber(optionsObject(opts, 'peek options', ['nowMs'])?.nowMs, 'nowMs');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#backend.peek(identifier, now);
  }

  /** Forget `identifier`: its next request starts from a full limit. */
  reset(identifier) {
    return this.#backend.reset(identifier);
  }

  /** How many decisions `onError` or `insurance` made because Redis failed (or was skipped
   *  by the circuit breaker after a failure), in this process. */
  errors() {
    return this.#backend.errors();
  }

  /** Take `n` units from `identifier` now, whether or not they fit (never below empty);
   *  resolves to what `peek` then sees. `{ nowMs }` for a caller-supplied clock. */
  penalty(identifier, n, opts) {
    return this.#adjust(identifier, n, false, opts, 'penalty');
  }

  /** Give `n` units back to `identifier`, never above its full capacity; resolves to what
   *  `peek` then sees. */
  reward(identifier, n, opts) {
    return this.#adjust(identifier, n, true, opts, 'reward');
  }

  #adjust(identifier, n, reward, opts, what) {
    let now;
    try {
      if (typeof n !== 'number') throw new InvalidArgument(`${what} needs a number of units n, got ${typeof n}`);
      now = optionalNumber(optionsObject(opts, `${what} options`, ['nowMs'])?.nowMs, 'nowMs');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#backend.adjust(identifier, n, reward, now);
  }

  /** Wait until a request of `{ cost }` (default 1) is allowed, sleeping for each denial's
   *  `retryAfterMs`; with a `timeout` (ms or a string such as '2s'), resolves to the denied
   *  result once the next try would come after it (no rejection; none: as long as it
   *  takes). A `deny_list` or `onError` result comes back at once. */
  wait(identifier, opts) {
    let cost;
    let timeout;
    try {
      const o = optionsObject(opts, 'wait options', ['cost', 'timeout']) ?? {};
      cost = optionalNumber(o.cost, 'cost');
      timeout = o.timeout ?? undefined;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#backend.wait(identifier, cost, timeout);
  }

  /** The RateLimit-Policy header of the limiter's rules (`100;w=60`). */
  get policy() {
    return this.#backend.policy;
  }
}

/** `client.rateLimiter(...)` over a backend limiter. */
export function makeRateLimiter(backend) {
  return new RateLimiter(INTERNAL, backend);
}
