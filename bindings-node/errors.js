'use strict'
// Error classes with the names of the shared API, and the conversion of native errors into
// them. The code -> class-name table comes from the core (`errorClasses()`), so the mapping
// of core error kinds is written once, in Rust.

const native = require('./index.js')

/** Base class of every error redkit throws. `code` is a stable machine-readable string. */
class RedkitError extends Error {
  constructor(message, options) {
    super(message, options)
    this.name = new.target.name
    if (this.code === undefined) this.code = 'ERR_REDKIT'
  }
}

const classes = { RedkitError }
const byCode = {}
for (const [code, name] of Object.entries(native.errorClasses())) {
  const cls = {
    [name]: class extends RedkitError {
      constructor(message, options) {
        super(message, options)
        this.code = code
      }
    },
  }[name]
  classes[name] = cls
  byCode[code] = cls
}

// Errors thrown by user loaders (or by encoding their result). They reach the caller of
// `getOrSet` as they were thrown, never re-wrapped.
const fromLoader = new WeakSet()

/** Remember `err` as thrown by a loader; non-objects become a LoaderError. */
function loaderFailure(err) {
  const e = err !== null && (typeof err === 'object' || typeof err === 'function') ? err : new classes.LoaderError(String(err))
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
  if (marked && byCode[marked[1]]) return new byCode[marked[1]](message.slice(marked[0].length))
  if (err && NAPI_ARGUMENT_CODES.has(err.code)) return new classes.InvalidArgument(message, { cause: err })
  // Anything else is a bug in redkit (a Rust panic arrives here): still a typed error.
  return new RedkitError(message, { cause: err })
}

/** Await a native promise (or call), rethrowing failures as redkit errors. */
async function call(promiseOrFn) {
  try {
    return await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn)
  } catch (err) {
    throw fromNative(err)
  }
}

module.exports = { ...classes, fromNative, loaderFailure, call }
