// Argument checks the facade's classes and both packages' own code share, so a wrong type
// reads as the same InvalidArgument everywhere. What a value means (ranges, units,
// defaults) is the core's to check, not these.

import { InvalidArgument } from './errors.js';

/** `v` when it is a string; an InvalidArgument naming `what` otherwise. */
export function stringArg(v, what) {
  if (typeof v !== 'string') throw new InvalidArgument(`${what} must be a string, got ${typeof v}`);
  return v;
}

/**
 * Options: absent (undefined), or a plain object (a typo'd type is worth an error, not
 * silence). With `names`, the options a call takes that the core does not read (a limit's
 * `cost`): any other name is refused as the core refuses one, so a misspelt option is
 * never silently ignored.
 * @param {unknown} opts
 * @param {string} what
 * @param {string[]} [names]
 */
export function optionsObject(opts, what, names) {
  if (opts === undefined || opts === null) return undefined;
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new InvalidArgument(`${what} must be an object`);
  if (names !== undefined) {
    for (const [name, value] of Object.entries(opts)) {
      if (value !== undefined && !names.includes(name)) {
        throw new InvalidArgument(`unknown option "${name}" (${what}: ${names.join(', ')})`);
      }
    }
  }
  return opts;
}
