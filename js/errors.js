// The error classes every runtime shares, one per core error kind, for both JS packages (the
// Node addon and the edge's wasm). `CLASSES` is the core's table (`ErrorKind::ALL`, code ->
// class name); each backend exports that table from Rust as `errorClasses()`, and the
// shared test suite checks the two are equal, so a kind added in the core fails the suite
// until it is added here.

/** `code -> class name`, as `errorClasses()` gives it from the core. */
export const CLASSES = Object.freeze({
  ERR_CONNECTION: 'ConnectionError',
  ERR_TIMEOUT: 'TimeoutError',
  ERR_INVALID_ARGUMENT: 'InvalidArgument',
  ERR_DECODE: 'DecodeError',
  ERR_ENCODE: 'EncodeError',
  ERR_SCRIPT: 'ScriptError',
  ERR_SERVER: 'ServerError',
  ERR_NOT_FOUND: 'NotFound',
  ERR_CLOSED: 'Closed',
  ERR_LOCK_NOT_ACQUIRED: 'LockNotAcquired',
  ERR_LOADER: 'LoaderError',
  ERR_JOB_FAILED: 'JobFailed',
});

/** Base class of every error redkit throws. `code` is a stable machine-readable string. */
export class RedkitError extends Error {
  /**
   * `options` as `Error`'s (`cause`), plus `code`; a string in its place is the code (the
   * edge package's first form, kept).
   * @param {string} [message]
   * @param {string | { cause?: unknown, code?: string }} [options]
   * @param {{ cause?: unknown }} [more] the `Error` options when `options` is a code
   */
  constructor(message, options, more) {
    const code = typeof options === 'string' ? options : options?.code;
    super(message, typeof options === 'string' ? more : options);
    this.name = new.target.name;
    /** @type {string} */
    this.code = code ?? this.code ?? 'ERR_REDKIT';
  }
}

/** @type {Record<string, typeof RedkitError>} */
const byCode = {};

/** A subclass of RedkitError named `name`, whose instances carry `code`. */
function kind(name, code) {
  const cls = {
    [name]: class extends RedkitError {
      /**
       * @param {string} [message]
       * @param {{ cause?: unknown }} [options]
       */
      constructor(message, options) {
        super(message, options);
        this.code = code;
      }
    },
  }[name];
  byCode[code] = cls;
  return cls;
}

export const ConnectionError = kind('ConnectionError', 'ERR_CONNECTION');
export const TimeoutError = kind('TimeoutError', 'ERR_TIMEOUT');
export const InvalidArgument = kind('InvalidArgument', 'ERR_INVALID_ARGUMENT');
export const DecodeError = kind('DecodeError', 'ERR_DECODE');
export const EncodeError = kind('EncodeError', 'ERR_ENCODE');
export const ScriptError = kind('ScriptError', 'ERR_SCRIPT');
export const ServerError = kind('ServerError', 'ERR_SERVER');
export const NotFound = kind('NotFound', 'ERR_NOT_FOUND');
export const Closed = kind('Closed', 'ERR_CLOSED');
export const LockNotAcquired = kind('LockNotAcquired', 'ERR_LOCK_NOT_ACQUIRED');
export const LoaderError = kind('LoaderError', 'ERR_LOADER');
export const JobFailed = kind('JobFailed', 'ERR_JOB_FAILED');

/**
 * The error of a core failure with `code` (an unknown code, from a newer core, is still a
 * RedkitError carrying it).
 * @param {string} code
 * @param {string} message
 * @param {unknown} [cause]
 */
export function errorOf(code, message, cause) {
  const cls = byCode[code];
  const options = cause === undefined ? undefined : { cause };
  return cls === undefined ? new RedkitError(message, { code, cause }) : new cls(message, options);
}
