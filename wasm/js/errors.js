// The shared error classes (facade/errors.js), as the package exports them. Converting the
// wasm module's errors into them is native-errors.js's (internal, not exported).

export {
  RedkitError, ConnectionError, TimeoutError, InvalidArgument, DecodeError, EncodeError, ScriptError,
  ServerError, NotFound, Closed, LockNotAcquired, LoaderError, JobFailed,
} from './facade/errors.js';
