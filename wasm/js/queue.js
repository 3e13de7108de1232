// The job queue of shared/API.md for the edge: produce and inspect, no worker (a job is
// processed by a worker in Rust, Python or Node). BullMQ's names and option names; every
// operation is the core's Queue, options are read and checked by the core's job options.
// Payloads are JSON, readable by every runtime's worker.

import { DecodeError, InvalidArgument } from './errors.js';
import { run } from './runtime.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });
const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'];

function str(v, what) {
  if (typeof v !== 'string') throw new InvalidArgument(`${what} must be a string, got ${typeof v}`);
  return v;
}

function num(v, what, fallback) {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number') throw new InvalidArgument(`${what} must be a number, got ${typeof v}`);
  return v;
}

/** A payload as the JSON the core stores; `undefined` (no data) is stored as null. */
function encode(data, what) {
  let text;
  try {
    text = JSON.stringify(data === undefined ? null : data);
  } catch (e) {
    throw new InvalidArgument(`${what} cannot be encoded as JSON: ${e.message}`);
  }
  if (text === undefined) throw new InvalidArgument(`${what} cannot be encoded as JSON (a ${typeof data})`);
  return utf8.encode(text);
}

function decode(bytes, what) {
  if (bytes === null || bytes === undefined) return null;
  try {
    return JSON.parse(fromUtf8.decode(bytes));
  } catch (e) {
    throw new DecodeError(`${what} is not the expected JSON: ${e.message}`);
  }
}

/** `'failed'`, `['waiting', 'delayed']` or nothing (every state) as a list of state names. */
function states(v) {
  if (v === undefined || v === null) return STATES;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) throw new InvalidArgument('types must be a state name or an array of them');
  for (const s of list) str(s, 'each of types');
  return list;
}

/** A job as read from Redis: `id`, `name`, `data`, `opts`, `attemptsMade`, `progress`,
 *  `returnValue`, `failedReason`, `timestamp`, `processedOn`, `finishedOn`, `stacktrace`,
 *  `stalledCount`. */
export class Job {
  #queue;

  constructor(queue, raw) {
    this.#queue = queue;
    this.id = raw.id;
    this.name = raw.name;
    this.data = decode(raw.data, `job ${raw.id}'s data`);
    this.opts = raw.opts;
    this.attemptsMade = raw.attemptsMade;
    this.progress = raw.progress;
    this.returnValue = decode(raw.returnValue, `job ${raw.id}'s return value`);
    this.failedReason = raw.failedReason;
    this.timestamp = raw.timestamp;
    this.processedOn = raw.processedOn;
    this.finishedOn = raw.finishedOn;
    this.stacktrace = raw.stacktrace;
    this.stalledCount = raw.stalledCount;
  }

  /** The queue it belongs to. */
  get queue() {
    return this.#queue;
  }

  /** `waiting`, `delayed`, `active`, `completed`, `failed`, or null once removed. */
  state() {
    return this.#queue.getJobState(this.id);
  }

  /** Remove the job (refused while a worker holds it). */
  remove() {
    return this.#queue.remove(this.id);
  }

  /** Run the failed job again, attempts reset; false when it is not failed. */
  retry() {
    return this.#queue.retryJob(this.id);
  }
}

/** A named job queue (from `client.queue(name, defaultJobOptions)`). */
export class Queue {
  #client;
  #handle;

  /** @internal from `client.queue`: `handle` re-creates the wasm queue after a recovered
   *  panic. */
  constructor(client, name, handle) {
    this.#client = client;
    /** The queue's name. */
    this.name = name;
    this.#handle = handle;
  }

  #wasm() {
    this.#client._wasm();
    return this.#handle.get();
  }

  #job(raw) {
    return raw === null ? null : new Job(this, raw);
  }

  /** Add a job: `opts` as BullMQ's (`jobId`, `priority`, `delay`, `attempts`, `backoff`,
   *  `removeOnComplete`, `removeOnFail`, `lifo`, `timeout`, `deduplication`). Resolves to
   *  the job (for a `jobId` or deduplication id already taken, the job holding it). */
  async add(name, data, opts) {
    str(name, 'name');
    const raw = encode(data, 'job data');
    return this.#job(await run(() => this.#wasm().add(name, raw, opts)));
  }

  /** Add `[{ name, data, opts }]` atomically, in one round trip; resolves to the jobs. */
  async addBulk(jobs) {
    if (!Array.isArray(jobs)) throw new InvalidArgument('addBulk takes an array of { name, data, opts }');
    const list = jobs.map((j, i) => {
      if (j === null || typeof j !== 'object') throw new InvalidArgument(`jobs[${i}] must be an object`);
      return { name: str(j.name, `jobs[${i}].name`), data: encode(j.data, `jobs[${i}].data`), opts: j.opts };
    });
    const raws = await run(() => this.#wasm().add_bulk(list));
    return raws.map((r) => this.#job(r));
  }

  /** The job with this id, or null. */
  async getJob(id) {
    str(id, 'id');
    return this.#job(await run(() => this.#wasm().get_job(id)));
  }

  /** Jobs in `types` (a state name or a list; default all), positions `start..end` of each
   *  state's order (`end` -1: the last). */
  async getJobs(types, start, end) {
    const list = states(types);
    const s = num(start, 'start', 0);
    const e = num(end, 'end', -1);
    const raws = await run(() => this.#wasm().get_jobs(list, s, e));
    return raws.map((r) => this.#job(r));
  }

  /** `{ waiting, active, delayed, completed, failed, prioritized }`, plus `paused` (the
   *  waiting jobs) while the queue is paused; one round trip. */
  counts() {
    return run(() => this.#wasm().counts());
  }

  /** The state of the job with this id, or null. */
  getJobState(id) {
    str(id, 'id');
    return run(() => this.#wasm().state(id));
  }

  /** Hand out no jobs until resumed; adds still succeed. */
  async pause() {
    await run(() => this.#wasm().pause());
  }

  async resume() {
    await run(() => this.#wasm().resume());
  }

  isPaused() {
    return run(() => this.#wasm().is_paused());
  }

  /** Remove a job and its logs; false when there was none. An active job is refused. */
  remove(id) {
    str(id, 'id');
    return run(() => this.#wasm().remove(id));
  }

  /** Cancel a job: an active one's worker aborts it, a waiting or delayed one fails now.
   *  False when there is no such job or it finished already. */
  cancel(id) {
    str(id, 'id');
    return run(() => this.#wasm().cancel(id));
  }

  /** Make a delayed job ready now; false when it is not delayed. */
  promote(id) {
    str(id, 'id');
    return run(() => this.#wasm().promote(id));
  }

  /** Run one failed job again, attempts reset; false when it is not failed. */
  retryJob(id) {
    str(id, 'id');
    return run(() => this.#wasm().retry_job(id));
  }

  /** Move every failed (or, with `{ state: 'completed' }`, completed) job back to
   *  waiting; resolves to how many moved. */
  retryJobs(opts) {
    const o = opts ?? {};
    if (typeof o !== 'object') throw new InvalidArgument('retryJobs options must be an object');
    const state = o.state === undefined ? 'failed' : str(o.state, 'state');
    return run(() => this.#wasm().retry_jobs(state));
  }

  /** Remove up to `limit` jobs of `type` (completed, failed, delayed or waiting) older than
   *  `grace` ms; resolves to their ids. */
  clean(grace, limit, type = 'completed') {
    const g = num(grace, 'grace');
    const l = num(limit, 'limit');
    if (g === undefined || l === undefined) throw new InvalidArgument('clean needs a grace (ms) and a limit');
    return run(() => this.#wasm().clean(g, l, str(type, 'type')));
  }

  /** Remove every waiting job, and the delayed ones too when `delayed` is true. */
  async drain(delayed = false) {
    if (typeof delayed !== 'boolean') throw new InvalidArgument('drain(delayed) takes a boolean');
    await run(() => this.#wasm().drain(delayed));
  }

  /** Delete the queue and all its keys; `{ force: true }` also while jobs are active. */
  async obliterate(opts) {
    const force = opts?.force ?? false;
    if (typeof force !== 'boolean') throw new InvalidArgument('obliterate option force must be a boolean');
    await run(() => this.#wasm().obliterate(force));
  }
}
