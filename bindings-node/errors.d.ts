// The shared error classes (facade/errors.d.ts), and the Node-only conversions.
export {
  RedkitError, ConnectionError, TimeoutError, InvalidArgument, DecodeError, EncodeError, ScriptError,
  ServerError, NotFound, Closed, LockNotAcquired, LoaderError, JobFailed,
} from './facade/errors.js'

/** Internal (used by redkit.js): the redkit error, or a loader's own error, for what the native layer threw. */
export declare function fromNative(err: unknown): Error
/** Internal: mark `err` as thrown by a loader (non-objects become a LoaderError). */
export declare function loaderFailure(err: unknown): unknown
/** Internal: `fn()`'s result (a synchronous native call), its failure rethrown as a redkit error. */
export declare function callNative<T>(fn: () => T): T
