// Values (docs/values.md) through either JS package, over every server transport: the JSON
// codec's mapping, read against the fixture of what Python writes (conformance/values/), codec
// objects and their failures as typed errors, and a cached null told apart from a miss.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { api, clientsOver, serverTransports, useBackend } from './harness.mjs';

const { DecodeError, EncodeError, InvalidArgument, NotFound } = api;
const MAPPING = JSON.parse(
  fs.readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'conformance', 'values', 'json_mapping.json'),
    'utf8',
  ),
);
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Stored text upper-cased: a codec object of the application's. */
const upper = {
  encode: (value) => utf8.encode(String(value).toUpperCase()),
  decode: (bytes) => text.decode(bytes).toLowerCase(),
};

const backend = useBackend();

for (const transport of serverTransports) {
  describe(`values over ${transport}`, () => {
    const { client } = clientsOver(backend, transport);

    test('what Python writes with datetime, UUID, Decimal, sets and models reads as the mapping says', async () => {
      const c = await client('frompy');
      // The bytes Python's JSON codec stores for the fixture's record, as Python wrote them.
      await c.cache('values', { codec: 'bytes' }).set('record', utf8.encode(JSON.stringify(MAPPING.python)));
      const v = await c.cache('values').get('record');
      assert.deepEqual(v, MAPPING.python);
      assert.equal(new Date(v.at).getTime(), MAPPING.epoch_ms['python.at']);
      assert.equal(new Date(v.point.seen).getTime(), MAPPING.epoch_ms['python.point.seen']);
      assert.match(v.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(Number(v.price), 12.5);
      assert.deepEqual(v.tags, ['a']);
    });

    test('a Date is written as its ISO 8601 UTC string and a Set as an array; a Map is refused', async () => {
      const c = await client('tojs');
      const cache = c.cache('values');
      const value = { at: new Date(MAPPING.epoch_ms['js.at']), tags: new Set(['a', 'b']), pair: [1, 2] };
      await cache.set('record', value);
      const raw = await c.cache('values', { codec: 'bytes' }).get('record');
      assert.equal(text.decode(raw), JSON.stringify(MAPPING.js));
      // Read back as plain JSON values: the Date is its string.
      assert.deepEqual(await cache.get('record'), MAPPING.js);
      assert.deepEqual(await cache.getOrSet('set', () => new Set([1])), [1]);
      // An empty object stays one: only a Set or a Map takes the mapping's second pass.
      await cache.set('empty', { a: {}, b: [] });
      assert.deepEqual(await cache.get('empty'), { a: {}, b: [] });
      await assert.rejects(cache.set('map', { m: new Map([['a', 1]]) }), (e) => e instanceof EncodeError && /Map/.test(e.message));
      await assert.rejects(cache.getOrSet('map', () => new Map()), EncodeError);
      assert.equal(await cache.get('map', { default: 'missing' }), 'missing');
    });

    test('a codec object encodes and decodes; the core stores its bytes as they are', async () => {
      const c = await client('custom');
      const cache = c.cache('upper', { codec: upper });
      await cache.set('k', 'hello');
      assert.equal(await cache.get('k'), 'hello');
      assert.equal(text.decode(await c.cache('upper', { codec: 'bytes' }).get('k')), 'HELLO');
      let calls = 0;
      const load = () => {
        calls += 1;
        return 'loaded';
      };
      assert.equal(await cache.getOrSet('l', load), 'loaded');
      assert.equal(await cache.getOrSet('l', load), 'loaded');
      assert.equal(calls, 1);
      // A string from encode is stored as its UTF-8.
      const json = c.cache('text', { codec: { encode: (v) => JSON.stringify(v), decode: (b) => JSON.parse(text.decode(b)) } });
      await json.set('k', { é: 1 });
      assert.deepEqual(await json.get('k'), { é: 1 });
      assert.equal(text.decode(await c.cache('text', { codec: 'bytes' }).get('k')), '{"é":1}');
    });

    test('a codec that is not one is refused when the cache is made', async () => {
      const c = await client('badcodec');
      for (const codec of [{}, { encode: () => '' }, { encode: 1, decode: () => 1 }, 5, 'pickle']) {
        assert.throws(() => c.cache('bad', { codec }), InvalidArgument, String(codec));
      }
    });

    test('a codec object that fails is a typed error, and nothing is written', async () => {
      const c = await client('failing');
      const bytes = c.cache('bad', { codec: 'bytes' });
      const numbers = c.cache('bad', { codec: { encode: () => 5, decode: (b) => b } });
      await assert.rejects(numbers.set('k', 1), (e) => e instanceof EncodeError && /returned number, not a Uint8Array/.test(e.message));
      await assert.rejects(numbers.getOrSet('k', () => 1), EncodeError);
      const thrown = new RangeError('cannot store this');
      const failing = c.cache('bad', {
        codec: {
          encode: () => {
            throw thrown;
          },
          decode: () => {
            throw new SyntaxError('cannot read this');
          },
        },
      });
      await assert.rejects(failing.set('k', 1), (e) => e instanceof EncodeError && e.cause === thrown && /RangeError: cannot store this/.test(e.message));
      assert.equal(await bytes.get('k'), null);
      await bytes.set('k', utf8.encode('x'));
      await assert.rejects(failing.get('k'), (e) => e instanceof DecodeError && e.cause instanceof SyntaxError);
      // A redkit error thrown by the codec passes as it is.
      const own = new NotFound('no such schema');
      const refusing = c.cache('bad', {
        codec: {
          encode: () => {
            throw own;
          },
          decode: (b) => b,
        },
      });
      await assert.rejects(refusing.set('k', 1), (e) => e === own);
    });

    test('a cached null is a hit: get with a default tells it from a miss', async () => {
      const c = await client('nulls');
      const cache = c.cache('nulls');
      const missing = Symbol('missing');
      assert.equal(await cache.get('n'), null);
      assert.equal(await cache.get('n', { default: missing }), missing);
      assert.equal(await cache.get('n', { default: undefined }), undefined);
      await cache.set('n', null);
      assert.equal(await cache.get('n', { default: missing }), null);
      assert.equal(await cache.get('n', {}), null);
      await assert.rejects(cache.get('n', { defualt: 1 }), InvalidArgument);
      await assert.rejects(cache.get('n', 'default'), InvalidArgument);
      const blobs = c.cache('blobs', { codec: upper });
      assert.equal(await blobs.get('none', { default: missing }), missing);
    });
  });
}
