// The error classes of both JS packages: one table, the core's, and every class of it
// exported with its code under RedkitError.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CLASSES } from '../errors.js';
import { api, backendName, coreErrorClasses } from './harness.mjs';

const { RedkitError } = api;

test("the facade's error table is the core's (ErrorKind::ALL)", () => {
  assert.deepEqual({ ...coreErrorClasses() }, { ...CLASSES });
});

test('every error class is exported, with its code, under RedkitError', () => {
  for (const [code, name] of Object.entries(CLASSES)) {
    const cls = api[name];
    assert.equal(typeof cls, 'function', name);
    const err = new cls('m', { cause: 'c' });
    assert.ok(err instanceof RedkitError && err instanceof Error, name);
    assert.equal(err.name, name);
    assert.equal(err.code, code);
    assert.equal(err.message, 'm');
    assert.equal(err.cause, 'c');
  }
  const base = new RedkitError('m');
  assert.equal(base.code, 'ERR_REDKIT');
  assert.equal(base.name, 'RedkitError');
  // The code as the second argument (the edge package's first form), options third.
  const coded = new RedkitError('m', 'ERR_PANIC', { cause: 1 });
  assert.deepEqual([coded.code, coded.cause], ['ERR_PANIC', 1]);
  assert.equal(new RedkitError('m', { code: 'ERR_X' }).code, 'ERR_X');
});

test('the public entry exports the API, not internals', () => {
  // The edge's test hooks (debugPanic, debugRunMany, resolveOptions, errorClasses) live in
  // its js/debug.js; error conversion (toError, fromNative, callNative) in each package.
  const internals = ['toError', 'fromNative', 'callNative', 'loaderFailure', 'debugPanic', 'debugRunMany',
    'resolveOptions', 'errorClasses', 'errorOf', 'makeCache', 'jsonText', 'parseJson', 'CLASSES'];
  for (const name of internals) assert.equal(api[name], undefined, `${name} is exported`);
  // Besides classes, only the edge's HTTP glue is a named function export.
  const functions = Object.keys(api).filter((name) => name !== 'default' && !/^[A-Z]/.test(name));
  assert.deepEqual(functions.sort(), backendName === 'wasm' ? ['rateLimitAnswer', 'withRateLimit'] : []);
});
