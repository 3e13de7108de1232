// Types of ratelimit.js: `client.rateLimiter(...)` in both JS packages. Options are read by
// the Rust core.

import type { Duration } from './cache.js'
import type { RedkitError } from './errors.js'

/** A rate limiting algorithm (docs/ratelimit.md). */
export type RateLimitAlgorithm = 'gcra' | 'token_bucket' | 'sliding_window' | 'sliding_log' | 'fixed_window'

/** One more limit decided in the same atomic call. */
export interface RateLimitRule {
  /** Requests (cost units) per window, at least 1. */
  limit: number
  /** The window, at least 1 ms. */
  window: Duration
  /** Extra capacity spent at once (gcra and token_bucket only; default 0). */
  burst?: number
}

/** Options of `client.rateLimiter(name, opts)`. */
export interface RateLimiterOptions {
  /** Requests (cost units) per window (default 10). */
  limit?: number
  /** The window (default 1 s). */
  window?: Duration
  /** Extra capacity spent at once, gcra and token_bucket only (default 0). */
  burst?: number
  /** More limits decided atomically with the first: nothing is consumed unless all allow. */
  limits?: RateLimitRule[]
  /** Record denied requests too, so a client that keeps retrying stays blocked. */
  countDenied?: boolean
  /** The longest one decision waits for Redis (default 1 s, at most 2^31 - 1 ms). */
  timeout?: Duration
  /** Remember denied identifiers in this process (or isolate) until their retry time. */
  localBlock?: boolean
  /** Default `gcra`. */
  algorithm?: RateLimitAlgorithm
  /** When Redis fails or exceeds `timeout`: `deny` (default) or `allow` give a result with
   *  reason `error`; `raise` rejects. */
  onError?: 'deny' | 'allow' | 'raise'
  /** `server` (default: the script reads TIME) or `client` (this process's clock). */
  clock?: 'server' | 'client'
  /** `limit` + `window` in the notation of Python's `limits`: `'100/minute'`,
   *  `'10 per 5 seconds'`, `'5/second;1000/day'` (several: extra limits). Not with
   *  `limit` or `window`. */
  rate?: string
  /** Once a request is denied, deny the identifier for this long, in every process. */
  blockFor?: Duration
  /** Identifiers always allowed (no round trip). */
  allowList?: string[]
  /** Identifiers always denied (no round trip). */
  denyList?: string[]
  /** While Redis is unreachable, decide with an in-process limiter of the same algorithm
   *  and limits (reason `insurance`) instead of `onError`; each process (or isolate) then
   *  enforces the whole limit on its own. Default false. */
  insurance?: boolean
  /** After Redis failed, decide without it for this long, then let one call probe, so a
   *  dead Redis costs one `timeout` per interval (default 1 s; 0: always ask Redis). */
  circuitBreaker?: Duration
}

/** One decision. Durations are whole ms, rounded up. */
export interface RateLimitResult {
  /** Whether the request may go on. */
  allowed: boolean
  /** The capacity (limit + burst) of the rule closest to its limit. */
  limit: number
  /** What that rule still allows after this decision (0 when `reason` is `error`). */
  remaining: number
  /** Until that rule is back to full capacity if nothing else comes. */
  resetAfterMs: number
  /** Until a request of the same cost may be allowed; 0 when allowed. */
  retryAfterMs: number
  /** `limit` (Redis decided), `local_block` (denied in-process), `error` (Redis failed:
   *  `onError` decided) or `insurance` (Redis failed: the in-process insurance limit decided). */
  reason: 'limit' | 'local_block' | 'error' | 'insurance' | 'allow_list' | 'deny_list'
  /** The failure `onError` covered, when `reason` is `error`. */
  error?: RedkitError
}

/** A named rate limiter: every decision is one atomic script in Redis. */
export declare class RateLimiter {
  private constructor()
  /** One atomic decision; `cost` defaults to 1, `nowMs` (ms since the epoch) replaces the clock. */
  limit(identifier: string, opts?: { cost?: number; nowMs?: number }): Promise<RateLimitResult>
  /** What a request of cost 1 would get, consuming nothing. */
  peek(identifier: string, opts?: { nowMs?: number }): Promise<RateLimitResult>
  /** Forget `identifier`. */
  reset(identifier: string): Promise<void>
  /** Decisions `onError` or `insurance` made because Redis failed (or was skipped by the
   *  circuit breaker after a failure), in this process. */
  errors(): number
  /** Take `n` units now, whether or not they fit (never below empty): what `peek` then sees. */
  penalty(identifier: string, n: number, opts?: { nowMs?: number }): Promise<RateLimitResult>
  /** Give `n` units back, never above full capacity: what `peek` then sees. */
  reward(identifier: string, n: number, opts?: { nowMs?: number }): Promise<RateLimitResult>
  /** Wait until allowed (sleeping for each `retryAfterMs`); past `timeout`, the denied result. */
  wait(identifier: string, opts?: { cost?: number; timeout?: Duration }): Promise<RateLimitResult>
  /** The RateLimit-Policy header of the limiter's rules (`100;w=60`). */
  readonly policy: string
}

/** What a backend gives the facade for one limiter: the core's decisions, each a promise. */
export interface RateLimiterBackend {
  limit(identifier: string, cost: number | undefined, nowMs: number | undefined): Promise<RateLimitResult>
  peek(identifier: string, nowMs: number | undefined): Promise<RateLimitResult>
  reset(identifier: string): Promise<unknown>
  errors(): number
  adjust(identifier: string, n: number, reward: boolean, nowMs: number | undefined): Promise<RateLimitResult>
  wait(identifier: string, cost: number | undefined, timeout: Duration | undefined): Promise<RateLimitResult>
  readonly policy: string
}

/** @internal a RateLimiter over `backend`. */
export declare function makeRateLimiter(backend: RateLimiterBackend): RateLimiter
