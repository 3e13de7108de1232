// Argument checks the facade's classes and both packages' own code share, so a wrong type
// reads as the same InvalidArgument everywhere. What a value means (ranges, units,
// defaults) is the core's to check, not these.

import { InvalidArgument } from './errors.js';

/** `v` when it is a string; an InvalidArgument naming `what` otherwise. */
export function stringArg(v, what) {
  if (typeof v !== 'string') throw new InvalidArgument(`${what} must be a string, got ${typeof v}`);
  return v;
}

/** Options: absent (undefined), or a plain object (a typo'd type is worth an error, not silence). */
export function optionsObject(opts, what) {
  if (opts === undefined || opts === null) return undefined;
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new InvalidArgument(`${what} must be an object`);
  return opts;
}
