// `Queue` and `Job` for both JS packages: argument checks and the shapes every runtime shares,
// over a backend (the Node addon, or the edge's wasm) that runs each operation in the
// core. Every queue decision is the core's; job options are read and checked there.
//
// A backend queue is an object of functions, each returning a promise (see `QueueBackend`
// in queue.d.ts): jobs come back as plain objects of the job's fields, `data` and
// `returnValue` already decoded. Payloads are JSON, readable by every runtime's worker.

import { optionsObject, stringArg as str } from './args.js';
import { InvalidArgument } from './errors.js';
import { jsonText } from './values.js';

/** Every state, in the order `getJobs()` without states reads them. */
const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'];

// Guards the constructor: queues come from `client.queue`.
const INTERNAL = Symbol('redkit.queue.internal');


/** @param {unknown} v @param {string} what @param {number} [fallback] */
function num(v, what, fallback) {
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new InvalidArgument(`${what} must be a number, got ${v}`);
    return fallback;
  }
  if (typeof v !== 'number') throw new InvalidArgument(`${what} must be a number, got ${typeof v}`);
  return v;
}

/**
 * A payload as the JSON text the core stores, mapped as a cache value is (values.js). What
 * JSON cannot hold (undefined, a function, a BigInt, a Map, a cycle) is an EncodeError: use
 * null for none.
 */
export function jobData(data, what) {
  return jsonText(data, what);
}

/** A job's progress (any JSON value) as JSON text; EncodeError for what JSON cannot hold. */
export function progressText(progress) {
  return jobData(progress, 'progress');
}

/** A job, as read from its hash when the call returned. */
export class Job {
  #queue;

  /**
   * @internal from a queue (or a backend's worker): `fields` as a backend gives them.
   * @param {Queue} queue
   * @param {Record<string, any>} fields
   */
  constructor(queue, fields) {
    this.#queue = queue;
    /** The id (automatic ids are decimal integers). */
    this.id = fields.id;
    /** The name given at add. */
    this.name = fields.name;
    /** The payload. */
    this.data = fields.data;
    /** The effective options (the queue's defaults under the add's), camelCase. */
    this.opts = fields.opts;
    /** Attempts that have ended, success included. */
    this.attemptsMade = fields.attemptsMade;
    /** The last progress reported, or null. */
    this.progress = fields.progress;
    /** The processor's result once completed, or null. */
    this.returnValue = fields.returnValue;
    /** Why the last attempt failed, or null. */
    this.failedReason = fields.failedReason;
    /** When the job was added (server ms since the epoch). */
    this.timestamp = fields.timestamp;
    /** When its last attempt started (server ms), or null. */
    this.processedOn = fields.processedOn;
    /** When it completed or failed for good (server ms), or null. */
    this.finishedOn = fields.finishedOn;
    /** The stack texts of the last errors, oldest first. */
    this.stacktrace = fields.stacktrace;
    /** How often it was found stalled (its worker gone). */
    this.stalledCount = fields.stalledCount;
  }

  /** The queue it belongs to. */
  get queue() {
    return this.#queue;
  }

  /** `waiting`, `delayed`, `active`, `completed`, `failed`, or null once removed. */
  state() {
    return this.#queue.getJobState(this.id);
  }

  /** Remove the job (refused while a worker holds it); false when it was gone. */
  remove() {
    return this.#queue.remove(this.id);
  }

  /** Run the failed job again, attempts reset; false when it is not failed. */
  retry() {
    return this.#queue.retryJob(this.id);
  }

  /** Store progress (any JSON value) on the job and send a `progress` event. */
  async updateProgress(progress) {
    await this.#queue._backend.updateProgress(this.id, progressText(progress));
    this.progress = progress;
  }

  /** Append a line to the job's log; resolves to the number of lines. */
  async log(line) {
    return this.#queue._backend.log(this.id, str(line, 'a log line'));
  }

  /** The job's log lines `start..end` (inclusive, `end` -1: the last). */
  async logs(start, end) {
    return this.#queue._backend.logs(this.id, num(start, 'start', 0), num(end, 'end', -1));
  }

  /** Resolves to the return value once the job completes; rejects with JobFailed (the
   *  reason) when it fails, TimeoutError after `timeout` ms (default: the core's, 30 s). */
  async waitUntilFinished(timeout) {
    return this.#queue._backend.waitUntilFinished(this.id, timeout ?? null);
  }
}

/** A named queue; from `client.queue(name, defaultJobOptions)`. */
export class Queue {
  #backend;
  #name;

  /** @internal see `makeQueue`. */
  constructor(token, backend, name) {
    if (token !== INTERNAL) throw new InvalidArgument('use client.queue(name, defaultJobOptions) to make a queue');
    this.#backend = backend;
    this.#name = name;
  }

  /** The queue's name. */
  get name() {
    return this.#name;
  }

  /** @internal the backend's queue, for a backend's own additions (a worker). */
  get _backend() {
    return this.#backend;
  }

  #job(fields) {
    return fields === null || fields === undefined ? null : new Job(this, fields);
  }

  /** Add one job: `opts` as BullMQ's (jobId, priority, delay, attempts, backoff, removeOnComplete, …). */
  async add(name, data, opts) {
    str(name, 'job name');
    const text = jobData(data, 'job data');
    return this.#job(await this.#backend.add(name, text, optionsObject(opts, 'job options')));
  }

  /** Add `[{name, data, opts}]` atomically, in one round trip. */
  async addBulk(jobs) {
    if (!Array.isArray(jobs)) throw new InvalidArgument('addBulk takes an array of { name, data, opts } objects');
    const list = jobs.map((j, i) => {
      if (j === null || typeof j !== 'object') throw new InvalidArgument(`addBulk: jobs[${i}] must be an object`);
      return {
        name: str(j.name, `jobs[${i}].name`),
        data: jobData(j.data, `jobs[${i}].data`),
        opts: optionsObject(j.opts, `jobs[${i}].opts`),
      };
    });
    const all = await this.#backend.addBulk(list);
    return all.map((f) => this.#job(f));
  }

  /** The job `id`, or null. */
  async getJob(id) {
    return this.#job(await this.#backend.getJob(str(id, 'job id')));
  }

  /** Jobs in `states` (a name or an array of names; default every state), positions
   *  `start..end` (inclusive, `end` -1: the last) of each. */
  async getJobs(states, start, end) {
    let list = STATES;
    if (states !== undefined && states !== null) {
      list = typeof states === 'string' ? [states] : states;
      if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
        throw new InvalidArgument('states must be a state name or an array of them');
      }
    }
    const all = await this.#backend.getJobs(list, num(start, 'start', 0), num(end, 'end', -1));
    return all.map((f) => this.#job(f));
  }

  /** `{waiting, active, delayed, completed, failed, prioritized}`, plus `paused` (the
   *  waiting jobs) while the queue is paused; one round trip. */
  counts() {
    return this.#backend.counts();
  }

  /** The state of the job `id`, or null when there is none. */
  async getJobState(id) {
    return this.#backend.state(str(id, 'job id'));
  }

  /** Hand out no more jobs (adds still succeed). */
  async pause() {
    await this.#backend.pause();
  }

  /** Hand out jobs again. */
  async resume() {
    await this.#backend.resume();
  }

  /** Whether the queue is paused. */
  isPaused() {
    return this.#backend.isPaused();
  }

  /** Move every job of `state` (`failed` by default, or `completed`) back to waiting; the
   *  number moved. `{ state }` is accepted too (the edge package's first form). */
  async retryJobs(state = 'failed') {
    const s = state !== null && typeof state === 'object' ? (optionsObject(state, 'retryJobs options', ['state'])?.state ?? 'failed') : state;
    return this.#backend.retryJobs(str(s, 'state'));
  }

  /** Run one failed job again, attempts reset; whether it was failed. */
  async retryJob(id) {
    return this.#backend.retryJob(str(id, 'job id'));
  }

  /** Run a delayed job now; whether it was delayed. */
  async promote(id) {
    return this.#backend.promote(str(id, 'job id'));
  }

  /** Remove a job (not an active one); whether it existed. */
  async remove(id) {
    return this.#backend.remove(str(id, 'job id'));
  }

  /** Ask for job `id` to be cancelled: a waiting job fails at once, a running one's signal
   *  aborts; false when there is no such job or it finished already. */
  async cancel(id) {
    return this.#backend.cancel(str(id, 'job id'));
  }

  /** Remove up to `limit` jobs of `state` finished more than `grace` ago (ms, or a string
   *  with its unit: '1h'; read by the core); their ids. */
  async clean(grace, limit, state = 'completed') {
    return this.#backend.clean(grace, num(limit, 'limit'), str(state, 'state'));
  }

  /** Remove every waiting job (and delayed ones when `delayed`). */
  async drain(delayed = false) {
    if (typeof delayed !== 'boolean') throw new InvalidArgument('drain(delayed) takes a boolean');
    await this.#backend.drain(delayed);
  }

  /** The workers (any process, any runtime) seen within `window` ms (default: the core's,
   *  60 s): `{id, host, pid, name, concurrency, running, lastSeenMs}`. */
  async workers(window) {
    return this.#backend.workers(window ?? null);
  }

  /** Results refused because their delivery had lost its lease, since the queue was made. */
  async lateResults() {
    return this.#backend.lateResults();
  }

  /** Remove the whole queue; refuses while jobs are active unless `{ force: true }`. */
  async obliterate(opts) {
    const force = optionsObject(opts, 'obliterate options', ['force'])?.force ?? false;
    if (typeof force !== 'boolean') throw new InvalidArgument('obliterate option force must be a boolean');
    await this.#backend.obliterate(force);
  }
}

/**
 * `client.queue(name, defaultJobOptions)`: `open(name, defaults)` makes the backend's
 * queue (the core reads and checks the defaults at once, so bad ones throw here). `cls`
 * is `Queue` or a backend's subclass adding what only that backend has (reaching its
 * backend queue through `_backend`).
 */
export function makeQueue(open, name, defaults, cls = Queue) {
  str(name, 'queue name');
  return new cls(INTERNAL, open(name, optionsObject(defaults, 'defaultJobOptions')), name);
}
