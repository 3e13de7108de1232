'use strict'
// The Node backend of the facade's everyday cache operations (getMany, setMany, exists,
// ttl, touch, incr, clear, stats): sent to the native cache's `ops()` functions through
// the client's completion queue (src/cache/ops.rs). Lists, numbers and booleans come back
// as JSON text; the bytes codecs' `getMany` as one framed buffer.

const { parseJson } = require('./facade/values.js')

/** A value as the addon hands bytes over: small ones as latin1 text (see cache.js). */
const toBuffer = (v) => (typeof v === 'string' ? Buffer.from(v, 'latin1') : v)

/** The values of `getManyBytes`: per value a little-endian u32 length (0xFFFFFFFF: a miss),
 *  then its bytes. */
function decodeFrames(v, decode) {
  const buf = toBuffer(v)
  const out = []
  for (let at = 0; at < buf.length; ) {
    const len = buf.readUInt32LE(at)
    at += 4
    if (len === 0xffffffff) {
      out.push(null)
    } else {
      out.push(decode(buf.subarray(at, at + len)))
      at += len
    }
  }
  return out
}

const orNull = (v) => (v === null ? null : parseJson(v))

/** The operations over `nativeCache` for `codec` (an entry of cache.js's CODECS). */
function opsBackend(nativeCache, codec, dispatch) {
  const ops = nativeCache.ops()
  const text = codec.get === 'getText'
  const getMany = text ? 'getManyText' : 'getManyBytes'
  const setMany = text ? 'setManyText' : 'setManyBytes'
  const decodeMany = text ? parseJson : (v) => decodeFrames(v, codec.decode)
  return {
    getMany: (keys) => dispatch.submit((op) => ops[getMany](op, keys), decodeMany, null),
    setMany: (keys, raws, opts) => dispatch.submit((op) => ops[setMany](op, keys, raws, opts), null, null),
    exists: (key) => dispatch.submit((op) => ops.exists(op, key), parseJson, null),
    ttl: (key) => dispatch.submit((op) => ops.ttl(op, key), orNull, null),
    touch: (key, ttl) => dispatch.submit((op) => ops.touch(op, key, ttl), parseJson, null),
    incr: (key, by, opts) => dispatch.submit((op) => ops.incr(op, key, by, opts), parseJson, null),
    clear: () => dispatch.submit((op) => ops.clear(op), parseJson, null),
    stats: () => nativeCache.stats(),
  }
}

module.exports = { opsBackend }
