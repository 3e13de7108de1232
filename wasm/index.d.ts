// Types of redkit-wasm (hand-written: the public API is the JS facade in js/, not the raw
// wasm-bindgen exports). Same names and shapes as the Node binding; durations in ms.

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
  /** Be told of decisions made because Redis failed (see `Incident`), at most once per 10 s
   *  per cache or limiter, asynchronously; `null` stops the reports. No console output. */
  onIncident(hook: ((incident: Incident) => void) | null): void;
  cache<V>(namespace: string, opts: CacheOptions & { codec: CodecObject<V> }): Cache<V>;
  cache<V = unknown>(namespace: string, opts?: CacheOptions): Cache<V>;
  /** A named rate limiter; bad options throw `InvalidArgument`. */
  rateLimiter(name: string, opts?: RateLimiterOptions): RateLimiter;
  /** A job queue to produce and inspect (the edge runs no worker); bad defaults throw
   *  `InvalidArgument`. */
  queue<D = unknown, R = unknown>(name: string, defaultJobOptions?: JobOptions): Queue<D, R>;
}

export {
  RedkitError, ConnectionError, TimeoutError, InvalidArgument, DecodeError, EncodeError, ScriptError,
  ServerError, NotFound, Closed, LockNotAcquired, LoaderError, JobFailed,
} from './js/facade/errors.js';
export type { Incident } from './js/facade/errors.js';
import type { Incident } from './js/facade/errors.js';
export type { BackoffOptions, JobCounts, JobOptions, JobState, RemovalOptions } from './js/facade/queue.js';
export { Job, Queue } from './js/facade/queue.js';
import type { JobOptions, Queue } from './js/facade/queue.js';
import type { CacheOptions as SharedCacheOptions, Cache, CodecObject, Duration } from './js/facade/cache.js';
import type { RateLimiter, RateLimiterOptions, RateLimitResult } from './js/facade/ratelimit.js';
export type { CodecObject, Duration, GetOptions, SetOptions, WrapOptions } from './js/facade/cache.js';
export { Cache } from './js/facade/cache.js';
export type { RateLimitAlgorithm, RateLimitResult, RateLimitRule, RateLimiterOptions } from './js/facade/ratelimit.js';
export { RateLimiter } from './js/facade/ratelimit.js';

/** Options of `client.cache(namespace, opts)`: the edge has the `json` and `bytes`
 *  (Uint8Array values) codecs, and codec objects `{ encode(value), decode(uint8array) }`. */
export interface CacheOptions extends Omit<SharedCacheOptions, 'codec'> {
  codec?: 'json' | 'bytes' | CodecObject<any>;
}
import type { RedkitError } from './js/facade/errors.js';

/** The HTTP meaning of a decision (the core's, the same as Express, Flask and Starlette). */
export interface RateLimitAnswer {
  /** 200 when the request goes on; 429 (denied), 403 (deny-listed) or 503 (Redis failed and onError denied). */
  status: number;
  /** `[name, value]` pairs: for the handler's response, or for the refusal. */
  headers: [string, string][];
  /** The JSON body of a refusal; null when the request goes on. */
  body: string | null;
}

/** What an HTTP middleware answers for `result`; `policy` (a limiter's `policy`) is sent as RateLimit-Policy. */
export function rateLimitAnswer(result: RateLimitResult, policy?: string): RateLimitAnswer;

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
    /** Builds the Response of a refusal instead of the default (the core's status, headers and JSON body are in `answer`). */
    onDenied?: (request: Request, result: RateLimitResult, answer: RateLimitAnswer) => Response | Promise<Response>;
  },
): (request: Request, ...rest: Rest) => Promise<Response>;
