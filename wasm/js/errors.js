// The shared error classes (facade/errors.js), and the conversion of the wasm module's
// errors into them.

import { errorOf } from './facade/errors.js';

export {
  RedkitError, ConnectionError, TimeoutError, InvalidArgument, DecodeError, EncodeError, ScriptError,
  ServerError, NotFound, Closed, LockNotAcquired, LoaderError, JobFailed,
} from './facade/errors.js';

/** An error from the wasm module (carrying `redkitKind` and its `code`) as its class;
 *  anything else (a loader's own error) unchanged. */
export function toError(e) {
  if (e && typeof e === 'object' && typeof e.redkitKind === 'string') return errorOf(e.code, e.message);
  return e;
}
