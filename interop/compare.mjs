// Exact comparison of JSON values, shared by the JavaScript producers and the Node worker.

import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const short = (v) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length <= 80 ? text : `${text.slice(0, 60)}... (${text.length} chars)`;
};

/** Where `got` differs from `want` (JSON types: numbers, strings, arrays, objects...), or null. */
export function difference(want, got, path) {
  const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(want) !== kind(got)) return `${path}: ${kind(want)} ${short(want)} became ${kind(got)} ${short(got)}`;
  if (kind(want) === 'array' || kind(want) === 'object') {
    const keys = Object.keys(want);
    if (!isDeepStrictEqual(keys.slice().sort(), Object.keys(got).sort())) {
      return `${path}: keys ${short(keys)} became ${short(Object.keys(got))}`;
    }
    for (const k of keys) {
      const d = difference(want[k], got[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(want, got) ? null : `${path}: ${short(want)} became ${short(got)}`;
}

/** The matrix's batch (INTEROP_BATCH), or nothing outside the matrix. */
export function batch() {
  const file = process.env.INTEROP_BATCH;
  return file ? JSON.parse(readFileSync(file, 'utf8')) : [];
}
