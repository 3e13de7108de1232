// The everyday operations of `Cache` (getMany, setMany, deleteMany, exists, ttl, touch,
// incr, clear, stats): the argument shapes the facade checks before a backend runs them in
// the core, where every rule (keys, ttl bounds, counter amounts) is checked.

import { optionsObject } from './args.js';
import { InvalidArgument } from './errors.js';

/** A list of keys: an array (a single string is refused: it is not a list). */
export function keyList(keys, what = 'keys') {
  if (!Array.isArray(keys)) throw new InvalidArgument(`${what} must be an array of strings`);
  return keys;
}

/**
 * The entries of `setMany`, a plain object or a Map of key to value, as the keys and the
 * encoded values.
 */
export function encodedEntries(entries, encode) {
  let pairs;
  if (entries instanceof Map) pairs = [...entries];
  else if (entries !== null && typeof entries === 'object' && !Array.isArray(entries)) pairs = Object.entries(entries);
  else throw new InvalidArgument('setMany takes an object (or a Map) of key to value');
  const keys = new Array(pairs.length);
  const raws = new Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    keys[i] = pairs[i][0];
    raws[i] = encode(pairs[i][1]);
  }
  return [keys, raws];
}

/** `incr`'s options: `{ ttl }` (the core refuses anything else). */
export function incrOptions(opts) {
  return optionsObject(opts, 'incr options');
}

/** Run `f`, a rejected promise for what it throws (the facade's methods never throw). */
export function attempt(f) {
  try {
    return f();
  } catch (err) {
    return Promise.reject(err);
  }
}
