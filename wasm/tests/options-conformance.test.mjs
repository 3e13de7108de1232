// Replays conformance/options/*.json (see conformance/README.md): the options the edge
// package hands to the core read as the same values as in every runtime, and the same ones
// are refused with InvalidArgument, through the real Client.rest, client.cache and
// client.rateLimiter calls too (made without a request: nothing is sent).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client, InvalidArgument, resolveOptions } from 'redkit-wasm';
import { root } from './harness.mjs';

const dir = path.join(root, 'conformance', 'options');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** A scenario value as JavaScript passes it: camelCase names, `$ms` in ms (JS's unit). */
function given(v) {
  if (Array.isArray(v)) return v.map(given);
  if (v === null || typeof v !== 'object') return v;
  const entries = Object.entries(v);
  if (entries.length === 1) {
    const [tag, x] = entries[0];
    if (tag === '$ms') return x;
    if (tag === '$number' || tag === '$int') return Number(x);
    if (tag === '$lone_surrogate') return `${x}\uD800`;
  }
  return Object.fromEntries(entries.map(([k, x]) => [camel(k), given(x)]));
}

function matches(expect, got) {
  if (expect === null || typeof expect !== 'object' || Array.isArray(expect)) return assert.deepEqual(got, expect);
  for (const [k, v] of Object.entries(expect)) assert.deepEqual(got[k], v, k);
}

const URL = 'http://127.0.0.1:9';

/** Make a client, cache or limiter with these options (no request is made). */
function throughTheApi(pattern, options) {
  if (pattern === 'connect') {
    if (options !== null && typeof options === 'object' && !Array.isArray(options)) {
      Client.rest({ ...options, url: URL });
    } else {
      resolveOptions('connect', options);
    }
    return;
  }
  const client = Client.rest({ url: URL });
  if (pattern === 'cache') client.cache('ns', options);
  else client.rateLimiter('rl', options);
}

test('there are option scenarios to replay', () => {
  assert.ok(files.length >= 3, `found ${files.length} scenario files in ${dir}`);
});

for (const file of files) {
  const scenario = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  test(`${file}: ${scenario.name}`, () => {
    for (const [i, step] of scenario.steps.entries()) {
      const where = `${file} step ${i}: ${JSON.stringify(step)}`;
      const options = given(step.given);
      if (step.error !== undefined) {
        assert.throws(() => resolveOptions(scenario.options, options), InvalidArgument, where);
        assert.throws(() => throughTheApi(scenario.options, options), InvalidArgument, where);
      } else {
        matches(step.expect, JSON.parse(resolveOptions(scenario.options, options)));
        throughTheApi(scenario.options, options);
      }
    }
  });
}

test('NaN is named as NaN, not as "a number, got number"', () => {
  const client = Client.rest({ url: URL });
  assert.throws(() => client.cache('c', { ttl: NaN }), (e) => e instanceof InvalidArgument && /ttl/.test(e.message) && /NaN/.test(e.message));
});

test('keys and identifiers: lone surrogates and undefined are InvalidArgument; delete takes separate keys', async () => {
  const client = Client.rest({ url: URL });
  const cache = client.cache('c');
  const limiter = client.rateLimiter('r');
  for (const key of ['a\uD800', 'b\uDFFF', undefined, 7]) {
    await assert.rejects(cache.get(key), InvalidArgument, String(key));
    await assert.rejects(cache.set(key, 1), InvalidArgument, String(key));
    await assert.rejects(cache.getOrSet(key, () => 1), InvalidArgument, String(key));
    await assert.rejects(cache.delete(key), InvalidArgument, String(key));
    await assert.rejects(limiter.limit(key), InvalidArgument, String(key));
    await assert.rejects(limiter.peek(key), InvalidArgument, String(key));
  }
  await assert.rejects(cache.delete(['a', 'b']), InvalidArgument);
  for (const ttl of [NaN, Infinity, 1e300, 1e17, -1, 'soon', 2 ** 31 * 1e6]) {
    await assert.rejects(cache.set('k', 1, { ttl }), InvalidArgument, String(ttl));
  }
  assert.throws(() => client.cache('n\uD800'), InvalidArgument);
});

test('the bytes codec stores bytes only; an anonymous function needs a wrap key', async () => {
  const client = Client.rest({ url: URL });
  await assert.rejects(client.cache('b', { codec: 'bytes' }).set('k', 'text'), InvalidArgument);
  assert.throws(() => client.cache('w').wrap(() => 1), InvalidArgument);
  assert.throws(() => client.cache('w').wrap(async (x) => x), InvalidArgument);
});
