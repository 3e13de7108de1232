// The edge backend of the shared `Queue` (facade/queue.js, from the repository's js/):
// produce and inspect, no worker (a job is processed by a worker in Rust, Python or Node).
// Each operation is the core's Queue in the wasm module; options are read and checked by
// the core's job options; payloads cross as JSON text and come back as its bytes.

import { DecodeError } from './errors.js';
import { makeQueue } from './facade/queue.js';
import { Handle, run } from './runtime.js';

const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function decode(bytes, what) {
  if (bytes === null || bytes === undefined) return null;
  try {
    return JSON.parse(fromUtf8.decode(bytes));
  } catch (e) {
    throw new DecodeError(`${what} is not the expected JSON: ${e.message}`);
  }
}

/** A job from the module (payloads as bytes) as the facade's job fields. */
function fields(raw) {
  if (raw === null) return null;
  raw.data = decode(raw.data, `job ${raw.id}'s data`);
  raw.returnValue = decode(raw.returnValue, `job ${raw.id}'s return value`);
  return raw;
}
const allFields = (raws) => raws.map(fields);

/** `client.queue(name, defaultJobOptions)` for the edge client `client`. */
export function queue(client, name, defaults) {
  return makeQueue(
    (n, d) => {
      // The core reads and checks the defaults at once, here; the handle re-creates the
      // wasm queue after a recovered panic.
      const handle = new Handle(() => client._wasm().queue(n, d));
      const q = () => {
        client._wasm();
        return handle.get();
      };
      return {
        add: (jobName, data, opts) => run(() => q().add(jobName, data, opts)).then(fields),
        addBulk: (jobs) => run(() => q().add_bulk(jobs)).then(allFields),
        getJob: (id) => run(() => q().get_job(id)).then(fields),
        getJobs: (states, start, end) => run(() => q().get_jobs(states, start, end)).then(allFields),
        counts: () => run(() => q().counts()),
        state: (id) => run(() => q().state(id)),
        pause: () => run(() => q().pause()),
        resume: () => run(() => q().resume()),
        isPaused: () => run(() => q().is_paused()),
        retryJobs: (state) => run(() => q().retry_jobs(state)),
        retryJob: (id) => run(() => q().retry_job(id)),
        promote: (id) => run(() => q().promote(id)),
        remove: (id) => run(() => q().remove(id)),
        cancel: (id) => run(() => q().cancel(id)),
        clean: (grace, limit, state) => run(() => q().clean(grace, limit, state)),
        drain: (delayed) => run(() => q().drain(delayed)),
        obliterate: (force) => run(() => q().obliterate(force)),
        updateProgress: (id, progress) => run(() => q().update_progress(id, progress)),
        log: (id, line) => run(() => q().log(id, line)),
        logs: (id, start, end) => run(() => q().logs(id, start, end)),
        waitUntilFinished: (id, timeout) =>
          run(() => q().wait_until_finished(id, timeout)).then((v) => decode(v, `job ${id}'s return value`)),
        workers: (window) => run(() => q().workers(window)),
        lateResults: () => run(() => q().late_results()),
      };
    },
    name,
    defaults,
  );
}
