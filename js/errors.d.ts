// Types of errors.js: the error classes of both JS packages.

/** `code -> class name` of every core error kind. */
export declare const CLASSES: Readonly<Record<string, string>>

/** Base class of every error redkit throws. */
export declare class RedkitError extends Error {
  /** A stable machine-readable code: `ERR_CONNECTION`, `ERR_CLOSED`, ... */
  readonly code: string
  /** `options.code` sets the code; a string in its place is the code (`more` then holds the `Error` options). */
  constructor(message?: string, options?: string | { cause?: unknown; code?: string }, more?: { cause?: unknown })
}
/** The server could not be reached, or the connection broke (`ERR_CONNECTION`). */
export declare class ConnectionError extends RedkitError {}
/** The operation did not finish within its deadline (`ERR_TIMEOUT`). */
export declare class TimeoutError extends RedkitError {}
/** The caller passed something redkit cannot act on (`ERR_INVALID_ARGUMENT`). */
export declare class InvalidArgument extends RedkitError {}
/** A stored value or a reply could not be decoded (`ERR_DECODE`). */
export declare class DecodeError extends RedkitError {}
/** A value could not be encoded by its codec; nothing was written (`ERR_ENCODE`). */
export declare class EncodeError extends RedkitError {}
/** A Lua script failed on the server (`ERR_SCRIPT`). */
export declare class ScriptError extends RedkitError {}
/** The server answered with an error reply (`ERR_SERVER`). */
export declare class ServerError extends RedkitError {}
/** The thing asked for does not exist (`ERR_NOT_FOUND`). */
export declare class NotFound extends RedkitError {}
/** The client was closed (`ERR_CLOSED`). */
export declare class Closed extends RedkitError {}
/**
 * A lock could not be acquired in time (`ERR_LOCK_NOT_ACQUIRED`). Reserved for the lock
 * pattern (`client.lock`), which is not built yet: nothing throws it today.
 */
export declare class LockNotAcquired extends RedkitError {}
/** A loader failed with something that was not an Error object (`ERR_LOADER`). */
export declare class LoaderError extends RedkitError {}
/** A job failed for good (what waiting for its result rejects with; `ERR_JOB_FAILED`). */
export declare class JobFailed extends RedkitError {}

/** The error for a core failure with `code` (a RedkitError carrying it when unknown). */
export declare function errorOf(code: string, message: string, cause?: unknown): RedkitError

/** A report of decisions made because Redis failed (`client.onIncident(hook)`): a fail-safe
 *  cache answering without Redis, a rate limiter's `onError` or `insurance` deciding. At
 *  most one per cache or limiter per 10 s. */
export interface Incident {
  /** `cache` or `rate_limiter`. */
  pattern: 'cache' | 'rate_limiter'
  /** The cache namespace or limiter name. */
  name: string
  /** What answered instead of Redis. */
  fallback: 'stale' | 'loader' | 'miss' | 'allow' | 'deny' | 'insurance'
  /** Decisions made on error since the previous report, this one included. */
  count: number
  /** One line saying all of the above. */
  message: string
  /** Why Redis did not answer: the error class name, its code and message. */
  error: { name: string; code: string; message: string }
}
