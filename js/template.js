// Key and tag templates of `cache.wrap`: `'user:{0}'`, `'team:{teamId}'`, `'{this.id}'`.
// JavaScript has no reliable parameter names (minifiers rename them, destructuring hides
// them), so a field names a position (`{0}`, `{1.id}`), a property of the first argument
// (`{teamId}`: the options-object style `find({ teamId })`), or the receiver (`{this.id}`).
// `{{` and `}}` are literal braces. Python's `@cached` templates name parameters instead.

import { InvalidArgument } from './errors.js';

/**
 * The parts of `text`: strings, and fields as `{ root, path }`; null when `text` has no
 * field (so it is no template). A malformed template is an InvalidArgument.
 */
export function parseTemplate(text, what) {
  const parts = [];
  let literal = '';
  let fields = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      literal += c;
      i++;
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      const field = end < 0 ? '' : text.slice(i + 1, end);
      if (!/^[A-Za-z_$0-9][\w$]*(\.[\w$]+)*$/.test(field)) {
        throw new InvalidArgument(`${what} template ${JSON.stringify(text)} has a bad field at ${i}: use {0}, {name} or {this.name}`);
      }
      const [root, ...path] = field.split('.');
      parts.push(literal, { root, path });
      literal = '';
      fields++;
      i = end;
    } else if (c === '}') {
      throw new InvalidArgument(`${what} template ${JSON.stringify(text)} has a lone } at ${i} (write }} for a brace)`);
    } else {
      literal += c;
    }
  }
  parts.push(literal);
  return fields === 0 ? null : parts;
}

/** The text of `parts` for one call (`self` the receiver, `args` the arguments). */
export function fillTemplate(parts, self, args, what) {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    let value;
    if (part.root === 'this') value = self;
    else if (/^\d+$/.test(part.root)) value = args[Number(part.root)];
    else value = args[0] === null || typeof args[0] !== 'object' ? undefined : args[0][part.root];
    for (const name of part.path) value = value === null || value === undefined ? undefined : value[name];
    if (value === undefined) {
      const field = [part.root, ...part.path].join('.');
      throw new InvalidArgument(
        `${what} template field {${field}} is undefined in this call ({name} reads the first argument's property, {0} is the first argument)`,
      );
    }
    out += typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  }
  return out;
}
