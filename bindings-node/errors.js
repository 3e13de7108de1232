'use strict'
// The shared error classes (facade/errors.js, checked against the core's table by the
// shared test suite), and the conversion of native errors into them.

const shared = require('./facade/errors.js')

const { RedkitError, InvalidArgument, LoaderError, errorOf } = shared

// Errors thrown by user loaders (or by encoding their result). They reach the caller of
// `getOrSet` as they were thrown, never re-wrapped.
const fromLoader = new WeakSet()

/** Remember `err` as thrown by a loader; non-objects become a LoaderError. */
function loaderFailure(err) {
  const e = err !== null && (typeof err === 'object' || typeof err === 'function') ? err : new LoaderError(String(err))
  fromLoader.add(e)
  return e
}

// napi's own argument-conversion failures (a number where a string is due, ...).
const NAPI_ARGUMENT_CODES = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected', 'NumberExpected',
  'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected', 'ArrayBufferExpected',
])
const MARKED = /^\u0001(ERR_[A-Z_]+)\u0001/

/** The redkit error (or the loader's own error) for whatever the native layer threw. */
function fromNative(err) {
  if (err instanceof RedkitError || fromLoader.has(err)) return err
  const message = err && typeof err.message === 'string' ? err.message : String(err)
  const marked = MARKED.exec(message)
  if (marked) return errorOf(marked[1], message.slice(marked[0].length))
  if (err && NAPI_ARGUMENT_CODES.has(err.code)) return new InvalidArgument(message, { cause: err })
  // Anything else is a bug in redkit (a Rust panic arrives here): still a typed error.
  return new RedkitError(message, { cause: err })
}

/** `fn()`'s result (a synchronous native call), its failure rethrown as a redkit error. */
function callNative(fn) {
  try {
    return fn()
  } catch (err) {
    throw fromNative(err)
  }
}

module.exports = {
  RedkitError,
  ConnectionError: shared.ConnectionError,
  TimeoutError: shared.TimeoutError,
  InvalidArgument,
  DecodeError: shared.DecodeError,
  EncodeError: shared.EncodeError,
  ScriptError: shared.ScriptError,
  ServerError: shared.ServerError,
  NotFound: shared.NotFound,
  Closed: shared.Closed,
  LockNotAcquired: shared.LockNotAcquired,
  LoaderError,
  JobFailed: shared.JobFailed,
  fromNative,
  loaderFailure,
  callNative,
}
