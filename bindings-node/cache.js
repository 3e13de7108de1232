'use strict'
// The Node backend of the shared `Cache` (facade/cache.js, from the repository's js/): each
// codec's encoding, and the cache operations sent to the native cache through the client's
// completion queue. Values cross as JSON text by default, as Buffers (latin1 text when
// small) with the bytes codecs.

const { makeCache } = require('./facade/cache.js')
const { codecObject, coreOptions, isCodecObject, jsonText, parseJson } = require('./facade/values.js')
const { DecodeError, EncodeError, InvalidArgument, callNative, loaderFailure } = require('./errors.js')
const { opsBackend } = require('./cache-ops.js')

function encodeBytes(value) {
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw new InvalidArgument('the bytes codec stores Buffers (or Uint8Arrays) only')
}

/**
 * A value of the bytes codecs as a Buffer: small ones cross from the addon as latin1 text
 * (one char per byte, see POOLED_BYTES in src/completion.rs), copied here into a Buffer from
 * Node's pool, which costs less than a Buffer the addon makes.
 */
const toBuffer = (v) => (typeof v === 'string' ? Buffer.from(v, 'latin1') : v)
const toBufferOrNull = (v) => (v === null ? null : toBuffer(v))
/** A Uint8Array as a Buffer over the same memory. */
const asBuffer = (u8) => (Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength))

// MessagePack, like Python's codec, through an optional package: loaded on first use, so
// applications that never ask for it do not need it.
let msgpack = null
function loadMsgpack() {
  if (msgpack === null) {
    try {
      msgpack = require('@msgpack/msgpack')
    } catch (err) {
      throw new InvalidArgument("codec 'msgpack' needs the @msgpack/msgpack package: npm install @msgpack/msgpack", { cause: err })
    }
  }
  return msgpack
}

function encodeMsgpack(value) {
  try {
    const bytes = msgpack.encode(value)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  } catch (err) {
    throw new EncodeError(`value cannot be encoded as MessagePack: ${err.message}`, { cause: err })
  }
}

function decodeMsgpack(buf) {
  try {
    return msgpack.decode(buf)
  } catch (err) {
    throw new DecodeError(`cached value is not valid MessagePack: ${err.message}`, { cause: err })
  }
}

// How each codec crosses the boundary: which native methods, and the JS-side encoding.
const CODECS = {
  json: {
    get: 'getText',
    set: 'setText',
    getOrSet: 'getOrSetText',
    encode: jsonText,
    decode: parseJson,
    decodeOrNull: (text) => (text === null ? null : parseJson(text)),
  },
  bytes: {
    get: 'getBytes',
    set: 'setBytes',
    getOrSet: 'getOrSetBytes',
    encode: encodeBytes,
    decode: toBuffer,
    decodeOrNull: toBufferOrNull,
  },
  // Stored as bytes; the same encoding Rust (rmp-serde, maps with string keys) and Python
  // (the msgpack package) write, so each reads what the others stored.
  msgpack: {
    get: 'getBytes',
    set: 'setBytes',
    getOrSet: 'getOrSetBytes',
    encode: encodeMsgpack,
    decode: (v) => decodeMsgpack(toBuffer(v)),
    decodeOrNull: (v) => (v === null ? null : decodeMsgpack(toBuffer(v))),
    load: loadMsgpack,
  },
}

/** A codec object of the application's (facade/values.js), over the bytes methods. */
function customCodec(object) {
  const { encode, decode } = codecObject(object, asBuffer)
  const fromNative = (v) => decode(toBuffer(v))
  return {
    get: 'getBytes',
    set: 'setBytes',
    getOrSet: 'getOrSetBytes',
    encode,
    decode: fromNative,
    decodeOrNull: (v) => (v === null ? null : fromNative(v)),
  }
}

/** The backend cache over `nativeCache` (see `CacheBackend` in facade/cache.d.ts). */
function backend(nativeCache, codec, dispatch) {
  // The operations as plain functions: a cheaper call than a native method.
  const fns = nativeCache.functions()
  const { get, set, getOrSet, encode, decode, decodeOrNull } = codec
  return {
    get: (key) => dispatch.submit((op) => fns[get](op, key), decodeOrNull, null),
    getOr: (key, missing) => dispatch.submit((op) => fns[get](op, key), (v) => (v === null ? missing : decode(v)), null),
    set: (key, raw, opts) => dispatch.submit((op) => fns[set](op, key, raw, opts), null, null),
    delete: (keys) => dispatch.submit((op) => fns.delete(op, keys), null, null),
    invalidateTags: (tags) => dispatch.submit((op) => fns.invalidateTags(op, tags), null, null),
    getOrSet: (key, loader, opts) => {
      // The host function the core calls on a miss (src/host.rs); the key and the signal
      // are not the loader's business. Its errors reach the caller as thrown.
      const load = async () => {
        let value
        try {
          value = await loader()
        } catch (err) {
          throw loaderFailure(err)
        }
        try {
          return encode(value)
        } catch (err) {
          throw loaderFailure(err)
        }
      }
      const within = dispatch.loaderOf()
      return dispatch.submit((op) => fns[getOrSet](op, key, opts, within), decode, load)
    },
  }
}

/** `client.cache(namespace, opts)` over the native client. */
function cache(nativeClient, dispatch, namespace, opts) {
  const custom = isCodecObject(opts?.codec) ? customCodec(opts.codec) : null
  // The core reads (and checks) every option, the codec's name included.
  const nativeCache = callNative(() => nativeClient.cache(namespace, coreOptions(opts)))
  const codec = custom ?? CODECS[opts?.codec ?? 'json']
  if (codec.load !== undefined) codec.load()
  return makeCache({ ...backend(nativeCache, codec, dispatch), ...opsBackend(nativeCache, codec, dispatch) }, codec.encode)
}

module.exports = { cache }
