// The host-callback contract (src/host.rs `JsHost`): the core calls a JS function many
// times, concurrently, with an AbortSignal, and gets each call's result or error, the way
// a queue worker will call its processor. No server needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import 'redkit-wasm'; // loads the module the test hook below uses
import { debugRunMany } from '../js/debug.js';

const CALLS = 300;
const CONCURRENCY = 32;
const CANCEL_EVERY = 3;
// Calls from here on wait until the first report was read: the reports must come as calls
// end (a list made at the end would never come).
const LATE = 150;

class CancelledByCore extends Error {
  name = 'CancelledByCore';
}

test('a JS function: hundreds of concurrent calls with aborts, every outcome reported', async () => {
  let inFlight = 0;
  let most = 0;
  let firstRead;
  const read = new Promise((resolve) => {
    firstRead = resolve;
  });
  const fn = async (arg, signal) => {
    assert.ok(arg instanceof Uint8Array);
    assert.ok(signal instanceof AbortSignal);
    const index = Number(new TextDecoder().decode(arg));
    inFlight++;
    most = Math.max(most, inFlight);
    try {
      if (index % CANCEL_EVERY === 0) {
        if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        throw new CancelledByCore(`call ${index} saw the abort`);
      }
      assert.equal(signal.aborted, false);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (index % CANCEL_EVERY === 1) throw new RangeError(`bad ${index}`);
      if (index >= LATE) await read;
      return index % 2 ? `ok ${index}` : new TextEncoder().encode(`ok ${index}`);
    } finally {
      inFlight--;
    }
  };
  const reports = [];
  for await (const report of debugRunMany(fn, {
    calls: CALLS, concurrency: CONCURRENCY, cancelEvery: CANCEL_EVERY, cancelAfterMs: 5,
  })) {
    firstRead();
    reports.push(report);
  }
  assert.deepEqual(reports.map((r) => r.index).sort((a, b) => a - b), Array.from({ length: CALLS }, (_, i) => i));
  for (const r of reports) {
    if (r.index % CANCEL_EVERY === 0) {
      assert.equal(r.cancelled, true, `call ${r.index}`);
      assert.equal(r.error.kind, 'CancelledByCore');
      assert.equal(r.error.message, `call ${r.index} saw the abort`);
    } else if (r.index % CANCEL_EVERY === 1) {
      assert.equal(r.cancelled, false);
      assert.equal(r.error.kind, 'RangeError');
      assert.equal(r.error.message, `bad ${r.index}`);
      assert.match(r.error.trace, /RangeError: bad \d+\n\s+at fn /);
    } else {
      assert.equal(r.cancelled, false);
      assert.equal(r.error, undefined);
      assert.equal(r.value, `ok ${r.index}`);
    }
  }
  assert.ok(most > 1 && most <= CONCURRENCY, `most in flight: ${most}`);
});

test('a result that is neither a string nor bytes fails that call with a TypeError', async () => {
  const reports = [];
  for await (const r of debugRunMany(() => 42, { calls: 1, concurrency: 1 })) reports.push(r);
  const [report] = reports;
  assert.equal(report.value, undefined);
  assert.equal(report.error.kind, 'TypeError');
});
