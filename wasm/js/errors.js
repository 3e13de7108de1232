// The error classes of shared/API.md, one per core ErrorKind (class_name / code), with the
// same names and codes as the Node binding.

/** Base of every redkit error; `code` is a stable machine-readable string. */
export class RedkitError extends Error {
  constructor(message, code = 'ERR_REDKIT', options) {
    super(message, options);
    this.code = code;
  }
  get name() {
    return this.constructor.name;
  }
}

const kind = (name, code) => {
  const cls = {
    [name]: class extends RedkitError {
      constructor(message, options) {
        super(message, code, options);
      }
    },
  }[name];
  return cls;
};

export const ConnectionError = kind('ConnectionError', 'ERR_CONNECTION');
export const TimeoutError = kind('TimeoutError', 'ERR_TIMEOUT');
export const InvalidArgument = kind('InvalidArgument', 'ERR_INVALID_ARGUMENT');
export const DecodeError = kind('DecodeError', 'ERR_DECODE');
export const ScriptError = kind('ScriptError', 'ERR_SCRIPT');
export const ServerError = kind('ServerError', 'ERR_SERVER');
export const NotFound = kind('NotFound', 'ERR_NOT_FOUND');
export const Closed = kind('Closed', 'ERR_CLOSED');
export const LockNotAcquired = kind('LockNotAcquired', 'ERR_LOCK_NOT_ACQUIRED');
export const LoaderError = kind('LoaderError', 'ERR_LOADER');

const byKind = {
  ConnectionError, TimeoutError, InvalidArgument, DecodeError, ScriptError, ServerError,
  NotFound, Closed, LockNotAcquired, LoaderError,
};

/** An error from the wasm module (tagged with `redkitKind`) as its class; anything else
 *  (a loader's own error) unchanged. */
export function toError(e) {
  if (e && typeof e === 'object' && typeof e.redkitKind === 'string') {
    const Cls = byKind[e.redkitKind] ?? RedkitError;
    return new Cls(e.message);
  }
  return e;
}
