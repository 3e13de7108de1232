// Types of redkit-wasm (hand-written: the public API is the JS facade in js/, not the raw
// wasm-bindgen exports). Same names and shapes as the Node binding; durations in ms.

/** A duration: milliseconds, or a string with a unit (`'250ms'`, `'60s'`, `'5m'`, `'1h'`, `'7d'`).
 *  Options are read by the Rust core: unknown names, wrong types, NaN and durations beyond
 *  their maximum (2^31 - 1 ms for timeouts, ten years for ttls and windows) are an
 *  `InvalidArgument`. */
export type Duration = number | string;

/** The options of `pattern` (`connect`, `cache`, `set`, `rate_limiter`) as the core reads
 *  them: JSON with every default filled in, durations in ms. For tests and the curious. */
export function resolveOptions(pattern: string, opts: unknown): string;

/** `code -> class name` of every core error kind, as the core gives it. */
export function errorClasses(): Record<string, string>;

/** Options of `Client.rest`. */
export interface RestOptions {
  /** The REST endpoint: Upstash, or redkit-gateway in front of any Redis. */
  url: string;
  /** Bearer token. */
  token?: string;
  /** Key namespace (default `rk`). */
  prefix?: string;
  /** Deadline per request, retries included, in ms (default 5000). */
  timeout?: Duration;
  /** Retries after a network error or a 5xx (default 3), with jittered exponential backoff. */
  retries?: number;
  /** Cap of the backoff between retries, in ms (default 2000). */
  retryBackoffMax?: Duration;
}

/** What `Client.adapter` needs: one function. `args[0]` is the command name. */
export type SendCommand = (args: (string | Uint8Array)[]) => Promise<unknown>;

/** A client `Client.adapter` recognizes: ioredis (`callBuffer`) or node-redis (`sendCommand`). */
export type AdapterClient =
  | SendCommand
  | { callBuffer(command: string, ...args: unknown[]): Promise<unknown> }
  | { sendCommand(args: (string | Uint8Array)[]): Promise<unknown> };

/** `client.check()`. */
export interface HealthReport {
  serverVersion: string;
  persistence: string;
  evictionPolicy: string;
  warnings: string[];
}

/** Options of `client.cache(namespace, opts)`. */
export interface CacheOptions {
  /** Fresh time in ms (default 1 hour). */
  ttl?: Duration;
  /** Up to this many ms of random extra ttl per write. */
  jitter?: Duration;
  /** Serve a stale entry this long past its ttl while refreshing or when the loader fails. */
  staleTtl?: Duration;
  /** XFetch β (default 1; 0 turns early refresh off). */
  earlyRefresh?: number;
  /** One loader per key across processes (default true). */
  lock?: boolean;
  /** Longest the loader lock is held / waited for, in ms (default 10000). */
  lockTimeout?: Duration;
  /** `json` (default) or `bytes` (Uint8Array values). */
  codec?: 'json' | 'bytes';
  /** Accepted for parity with the other runtimes and checked, but the edge keeps no near
   *  cache: its transports cannot receive Redis' key-tracking pushes, so reads go to Redis. */
  nearCache?: number;
}

/** Per-write options. */
export interface SetOptions {
  /** Overrides the namespace ttl, in ms. */
  ttl?: Duration;
  /** Tags `invalidateTags` can drop this entry by. */
  tags?: string[];
}

/** Options of `cache.wrap`. */
export interface WrapOptions<A extends unknown[]> extends SetOptions {
  /** The cache key for a call (default: the function's name and its JSON arguments). */
  key?: (...args: A) => string;
}

export class Client {
  private constructor(make: unknown);
  /** The Upstash-compatible REST protocol over fetch. */
  static rest(opts: RestOptions): Client;
  /** Wrap a JS Redis client you already have. */
  static adapter(client: AdapterClient, opts?: { prefix?: string }): Client;
  /** `rest` or `adapter`. */
  readonly transport: 'rest' | 'adapter';
  ping(): Promise<void>;
  check(): Promise<HealthReport>;
  close(): Promise<void>;
  cache<V = unknown>(namespace: string, opts?: CacheOptions): Cache<V>;
  /** A named rate limiter; bad options throw `InvalidArgument`. */
  rateLimiter(name: string, opts?: RateLimiterOptions): RateLimiter;
  /** A job queue to produce and inspect (the edge runs no worker); bad defaults throw
   *  `InvalidArgument`. */
  queue<D = unknown, R = unknown>(name: string, defaultJobOptions?: JobOptions): Queue<D, R>;
}

export class Cache<V = unknown> {
  private constructor();
  get(key: string): Promise<V | null>;
  set(key: string, value: V, opts?: SetOptions): Promise<void>;
  /** `delete('a', 'b')` or `delete(['a', 'b'])`; resolves to how many existed. */
  delete(...keys: string[]): Promise<number>;
  getOrSet<T extends V = V>(key: string, loader: () => T | Promise<T>, opts?: SetOptions): Promise<T>;
  invalidateTags(tags: string[]): Promise<number>;
  wrap<A extends unknown[], T extends V>(fn: (...args: A) => T | Promise<T>, opts?: WrapOptions<A>): (...args: A) => Promise<T>;
}

/** A rate limiting algorithm (docs/ratelimit.md). */
export type RateLimitAlgorithm = 'gcra' | 'token_bucket' | 'sliding_window' | 'sliding_log' | 'fixed_window';

/** One more limit decided in the same atomic call. */
export interface RateLimitRule {
  /** Requests (cost units) per window, at least 1. */
  limit: number;
  /** The window in ms, at least 1. */
  window: Duration;
  /** Extra capacity spent at once (gcra and token_bucket only; default 0). */
  burst?: number;
}

/** Options of `client.rateLimiter(name, opts)`; durations in ms. */
export interface RateLimiterOptions {
  /** Requests (cost units) per window (default 10). */
  limit?: number;
  /** The window in ms (default 1000). */
  window?: Duration;
  /** Default `gcra`. */
  algorithm?: RateLimitAlgorithm;
  /** Extra capacity spent at once, gcra and token_bucket only (default 0). */
  burst?: number;
  /** More limits decided atomically with the first: nothing is consumed unless all allow. */
  limits?: RateLimitRule[];
  /** Record denied requests too, so a client that keeps retrying stays blocked (default false). */
  countDenied?: boolean;
  /** When Redis fails or exceeds `timeout`: `deny` (default) or `allow` give a result with
   *  reason `error`; `raise` rejects. */
  onError?: 'deny' | 'allow' | 'raise';
  /** The longest one decision waits for Redis, in ms (default 1000). */
  timeout?: Duration;
  /** Remember denied identifiers in this isolate until their retry time (default false). */
  localBlock?: boolean;
  /** `server` (default: the script reads TIME) or `client` (this isolate's clock). */
  clock?: 'server' | 'client';
}

/** One decision. Durations are whole ms, rounded up. */
export interface RateLimitResult {
  /** Whether the request may go on. */
  allowed: boolean;
  /** The capacity (limit + burst) of the rule closest to its limit. */
  limit: number;
  /** What that rule still allows after this decision (0 when `reason` is `error`). */
  remaining: number;
  /** Until that rule is back to full capacity if nothing else comes. */
  resetAfterMs: number;
  /** Until a request of the same cost may be allowed; 0 when allowed. */
  retryAfterMs: number;
  /** `limit` (Redis decided), `local_block` (denied in-process) or `error` (`onError` decided). */
  reason: 'limit' | 'local_block' | 'error';
  /** The failure `onError` covered, when `reason` is `error`. */
  error?: RedkitError;
}

export class RateLimiter {
  private constructor();
  /** One atomic decision; `cost` defaults to 1, `nowMs` (ms since the epoch) replaces the clock. */
  limit(identifier: string, opts?: { cost?: number; nowMs?: number }): Promise<RateLimitResult>;
  /** What a request of cost 1 would get, consuming nothing. */
  peek(identifier: string, opts?: { nowMs?: number }): Promise<RateLimitResult>;
  /** Forget `identifier`. */
  reset(identifier: string): Promise<void>;
}

export {
  RedkitError, ConnectionError, TimeoutError, InvalidArgument, DecodeError, ScriptError,
  ServerError, NotFound, Closed, LockNotAcquired, LoaderError, JobFailed,
} from './js/facade/errors.js';
export type { BackoffOptions, JobCounts, JobOptions, JobState, RemovalOptions } from './js/facade/queue.js';
export { Job, Queue } from './js/facade/queue.js';
import type { JobOptions, Queue } from './js/facade/queue.js';
import type { RedkitError } from './js/facade/errors.js';

/** The HTTP meaning of a decision (the core's, the same as Express, Flask and Starlette). */
export interface RateLimitAnswer {
  /** 200 when the request goes on; 429 (denied) or 503 (Redis failed and onError denied). */
  status: number;
  /** `[name, value]` pairs: for the handler's response, or for the refusal. */
  headers: [string, string][];
  /** The JSON body of a refusal; null when the request goes on. */
  body: string | null;
}

/** What an HTTP middleware answers for `result`. */
export function rateLimitAnswer(result: RateLimitResult): RateLimitAnswer;

/**
 * Wrap a fetch-style handler: each request is first decided by `limiter`; a refusal is
 * answered at once (429 or 503 with a JSON body), an admitted request's response gets the
 * RateLimit-* headers. `key` gives the identifier (default: the x-forwarded-for address;
 * null or undefined: not limited), `cost` the request's cost (default 1).
 */
export function withRateLimit<Rest extends unknown[]>(
  limiter: RateLimiter,
  handler: (request: Request, ...rest: Rest) => Response | Promise<Response>,
  opts?: {
    key?: (request: Request) => string | null | undefined | Promise<string | null | undefined>;
    cost?: (request: Request) => number | Promise<number>;
  },
): (request: Request, ...rest: Rest) => Promise<Response>;

/** Test hook: a deliberate panic (in a call, or inside an async task) to see recovery work. */
export function debugPanic(inTask?: boolean): Promise<never>;
/** Test hook for the host-callback contract: calls `fn` many times with cancellations; yields each call's report as it ends. */
export function debugRunMany(
  fn: (arg: Uint8Array, signal: AbortSignal) => string | Uint8Array | Promise<string | Uint8Array>,
  plan: { calls: number; concurrency: number; cancelEvery?: number; cancelAfterMs?: number },
): AsyncGenerator<{ index: number; cancelled: boolean; value?: string; error?: { kind: string; message: string; trace: string | null } }>;
