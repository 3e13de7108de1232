// A deliberate panic, so tests (and the curious) can see that a panic is an error and the
// module keeps working afterwards. `inTask`: panic inside an async operation rather than
// in a synchronous call.
import { glue, guard, run } from './runtime.js';

export function debugPanic(inTask = false) {
  return inTask ? run(() => glue.debug_panic(true)) : Promise.resolve().then(() => guard(() => glue.debug_panic(false)));
}

// The host-callback contract (src/host.rs): the core calls `fn(arg: Uint8Array, signal:
// AbortSignal)` `calls` times, `concurrency` at a time, aborting the signal of every
// `cancelEvery`-th call `cancelAfterMs` after it starts. Yields every call's report
// (`{ index, cancelled, value?, error?: { kind, message, trace } }`) as calls end.
export async function* debugRunMany(fn, { calls, concurrency, cancelEvery = 0, cancelAfterMs = 1 }) {
  const reports = guard(() => glue.debug_run_many(fn, calls, concurrency, cancelEvery, cancelAfterMs));
  try {
    for (;;) {
      const text = await run(() => reports.next());
      if (text === null) return;
      yield JSON.parse(text);
    }
  } finally {
    reports.free();
  }
}

/** The options of `pattern` (`connect`, `cache`, `set`, `rate_limiter`) as the core reads
 *  them, as JSON with every default filled in (durations in ms): what the conformance
 *  scenarios compare (conformance/options). */
export function resolveOptions(pattern, opts) {
  return guard(() => glue.resolveOptions(pattern, opts));
}

/** `code -> class name` of every core error kind, as the core gives it (the shared error
 *  table is checked against it). */
export function errorClasses() {
  return guard(() => glue.errorClasses());
}
