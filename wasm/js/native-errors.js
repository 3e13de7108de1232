// The conversion of the wasm module's errors into the shared classes: internal, so the
// package's entries (index.js, workers.js), which export errors.js, do not export it.

import { errorOf } from './facade/errors.js';

/** An error from the wasm module (carrying `redkitKind` and its `code`) as its class;
 *  anything else (a loader's own error) unchanged. */
export function toError(e) {
  if (e && typeof e === 'object' && typeof e.redkitKind === 'string') return errorOf(e.code, e.message);
  return e;
}
