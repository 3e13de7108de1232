// Values for both JS packages (docs/values.md): the JSON codec's mapping of what JSON has
// no type for, and codec objects of the application's. The `codec` option is a name (each
// backend knows its named codecs) or an object with `encode(value)` returning a Uint8Array
// or a string (stored as UTF-8) and `decode(bytes)`; the core stores what `encode` returns
// as the `bytes` codec would, so every runtime reads it as bytes.

import { DecodeError, EncodeError, InvalidArgument, RedkitError } from './errors.js';

const utf8 = new TextEncoder();

/** What the mapping writes for a value JSON.stringify would get wrong: a Set as an array; a
 *  Map is refused (it would read back as `{}`). Dates need nothing: their toJSON writes
 *  the ISO 8601 UTC string the mapping wants. */
function mapped(_key, value) {
  if (value instanceof Set) return [...value];
  if (value instanceof Map) throw new TypeError('a Map has no JSON form: convert it (Object.fromEntries(map))');
  return value;
}

/**
 * JSON text of a value, with the mapping every runtime shares; what it cannot hold
 * (undefined, a function, a BigInt, a Map, a cycle) is an EncodeError naming `what`.
 */
export function jsonText(value, what = 'value') {
  let text;
  try {
    text = JSON.stringify(value);
    // A Set or a Map comes out as `{}`: only then is the value written again, through
    // the mapping (a replacer costs every write about twice as much).
    if (text !== undefined && text.includes('{}')) text = JSON.stringify(value, mapped);
  } catch (err) {
    throw new EncodeError(`${what} cannot be encoded as JSON: ${err.message}`, { cause: err });
  }
  if (text === undefined) throw new EncodeError(`${what} cannot be encoded as JSON: ${typeof value}`);
  return text;
}

/** The value of stored JSON text (plain JSON values: dates come back as strings). */
export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DecodeError(`cached value is not valid JSON: ${err.message}`, { cause: err });
  }
}

/** Whether the `codec` option is an object of the application's rather than a name. */
export function isCodecObject(codec) {
  return (typeof codec === 'object' && codec !== null) || typeof codec === 'function';
}

/** Options for the core, which knows codecs by name: a codec object's bytes are stored as
 *  the bytes codec's. */
export function coreOptions(opts) {
  return isCodecObject(opts?.codec) ? { ...opts, codec: 'bytes' } : opts;
}

function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'object') return v.constructor?.name ?? 'an object';
  return typeof v;
}

function failure(cls, what, err) {
  if (err instanceof RedkitError) return err;
  return new cls(`${what} threw: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
}

/**
 * The codec object `codec`, checked (an InvalidArgument without an `encode` and a `decode`
 * function) and held to the contract: `encode` gives bytes, and what either throws is an
 * EncodeError or a DecodeError whose cause is the thrown value (a RedkitError passes as it
 * is). `bytes(u8)` makes the backend's byte type (Node: a Buffer).
 */
export function codecObject(codec, bytes) {
  const { encode, decode } = codec;
  if (typeof encode !== 'function' || typeof decode !== 'function') {
    const missing = typeof encode !== 'function' ? 'encode' : 'decode';
    throw new InvalidArgument(
      `codec must be a codec name or an object with encode(value) and decode(bytes) functions; this one has no ${missing} function`,
    );
  }
  return {
    encode(value) {
      let out;
      try {
        out = encode.call(codec, value);
      } catch (err) {
        throw failure(EncodeError, 'codec.encode', err);
      }
      if (out instanceof Uint8Array) return bytes(out);
      if (typeof out === 'string') return bytes(utf8.encode(out));
      throw new EncodeError(`codec.encode returned ${describe(out)}, not a Uint8Array or a string`);
    },
    decode(raw) {
      try {
        return decode.call(codec, raw);
      } catch (err) {
        throw failure(DecodeError, 'codec.decode', err);
      }
    },
  };
}
