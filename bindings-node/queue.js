'use strict'
// The Node backend of the shared `Queue` and `Job` (facade/queue.js, from the repository's
// js/): each operation goes to the native queue through the client's completion queue.
// Data and options cross as JSON text (options camelCase, read by the core's schema, see
// src/queue.rs); jobs come back as JSON text of their fields. Schedulers and the replay's
// test hooks exist in this package only, so they are a subclass here.

const { EncodeError, InvalidArgument, callNative } = require('./errors.js')
const { QueueEvents } = require('./events.js')
const shared = require('./facade/queue.js')
const { stringArg } = require('./facade/args.js')

const { Job, makeQueue } = shared

// JSON would write NaN and Infinity as null, which the core reads as "not set", would drop
// a function or a symbol (the option silently unset) and throws its own TypeError on a
// bigint: refuse them here, as the core refuses them when it reads options from a JS value
// (every other runtime, and the edge).
function finiteOption(name, value) {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new InvalidArgument(`${name} must be a finite number, got ${value}`)
  }
  if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') {
    throw new InvalidArgument(`${name} cannot be a ${typeof value}`)
  }
  return value
}

/** An options object (checked by the facade) as JSON text, or null. */
function optionsText(opts) {
  return opts === undefined ? null : JSON.stringify(opts, finiteOption)
}

const parse = (text) => JSON.parse(text)
const orNull = (text) => (text === null ? null : JSON.parse(text))

/** The backend queue over `nativeQueue` (see `QueueBackend` in facade/queue.d.ts). */
function backend(nativeQueue, dispatch) {
  // The operations as plain functions: a cheaper call than a native method.
  const q = nativeQueue.functions()
  const submit = (start, decode) => dispatch.submit(start, decode, null)
  return {
    add: (name, data, opts) => {
      const o = optionsText(opts)
      return submit((op) => q.add(op, name, data, o), parse)
    },
    addBulk: (jobs) => {
      const items = jobs.map((j) => `{"name":${JSON.stringify(j.name)},"data":${j.data},"opts":${optionsText(j.opts)}}`)
      const text = `[${items.join(',')}]`
      return submit((op) => q.addBulk(op, text), parse)
    },
    getJob: (id) => submit((op) => q.getJob(op, id), orNull),
    getJobs: (states, start, end) => {
      const list = JSON.stringify(states)
      return submit((op) => q.getJobs(op, list, start, end), parse)
    },
    counts: () => submit((op) => q.counts(op), parse),
    state: (id) => submit((op) => q.state(op, id), orNull),
    pause: () => submit((op) => q.pause(op), null),
    resume: () => submit((op) => q.resume(op), null),
    isPaused: () => submit((op) => q.isPaused(op), parse),
    retryJobs: (state) => submit((op) => q.retryJobs(op, state), parse),
    retryJob: (id) => submit((op) => q.retryJob(op, id), parse),
    promote: (id) => submit((op) => q.promote(op, id), parse),
    remove: (id) => submit((op) => q.remove(op, id), parse),
    cancel: (id) => submit((op) => q.cancel(op, id), parse),
    clean: (grace, limit, state) => submit((op) => q.clean(op, grace, limit, state), parse),
    drain: (delayed) => submit((op) => q.drain(op, delayed), null),
    obliterate: (force) => submit((op) => q.obliterate(op, force), null),
    updateProgress: (id, progress) => submit((op) => q.updateProgress(op, id, progress), null),
    log: (id, line) => submit((op) => q.log(op, id, line), parse),
    logs: (id, start, end) => submit((op) => q.logs(op, id, start, end), parse),
    waitUntilFinished: (id, timeout) => submit((op) => q.waitUntilFinished(op, id, timeout), orNull),
    workers: (window) => submit((op) => q.workers(op, window), parse),
    lateResults: () => submit((op) => q.lateResults(op), parse),
    upsertScheduler: (id, spec) => submit((op) => q.upsertScheduler(op, id, spec), null),
    removeScheduler: (id) => submit((op) => q.removeScheduler(op, id), parse),
    schedulers: () => submit((op) => q.schedulers(op), parse),
    events: (fromId) => new QueueEvents(callNative(() => nativeQueue.events(fromId)), dispatch),
    // The calls a worker makes (the conformance replay's test hooks).
    replayHooks: () => {
      const hooks = nativeQueue.__replayHooks()
      return {
        take: () => submit((op) => hooks.take(op), parse),
        finish: (id, token, end) => submit((op) => hooks.finish(op, id, token, JSON.stringify(end)), parse),
        maintain: () => submit((op) => hooks.maintain(op), parse),
      }
    },
  }
}

/** The shared `Queue` with this package's schedulers. */
class Queue extends shared.Queue {
  /**
   * Create or replace scheduler `id`: a job named `name` with `data` and `opts` every
   * `every` ms, or on the `cron` pattern in time zone `tz`; one job per slot however many
   * workers run.
   */
  async upsertScheduler(id, spec) {
    stringArg(id, 'scheduler id')
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
      throw new InvalidArgument('a scheduler spec must be an object { every | cron, tz, name, data, opts }')
    }
    let text
    try {
      text = JSON.stringify(spec, finiteOption)
    } catch (err) {
      if (err instanceof InvalidArgument) throw err
      throw new EncodeError(`scheduler spec cannot be encoded as JSON: ${err.message}`, { cause: err })
    }
    await this._backend.upsertScheduler(id, text)
  }

  /** Remove scheduler `id` and its pending job; whether it existed. */
  async removeScheduler(id) {
    stringArg(id, 'scheduler id')
    return this._backend.removeScheduler(id)
  }

  /** Every scheduler of the queue: `{id, every?, cron?, tz?, name, data, opts, next}`. */
  schedulers() {
    return this._backend.schedulers()
  }

  /**
   * The queue's events from any process and runtime (waiting, active, progress, completed,
   * failed, retrying, stalled, …), as an async iterator and an EventEmitter of
   * `{ id, event, jobId, fields }`. `fromId`: `'$'` (from now on: this call pins the
   * position), `'0'` (everything the bounded stream still holds) or an event's `id` to
   * resume after it. `close()` it when done.
   */
  events(fromId = '$') {
    stringArg(fromId, 'fromId')
    return this._backend.events(fromId)
  }

  /** Test hook (the conformance replay): the calls a worker makes, as promises. Not API. */
  __replayHooks() {
    return this._backend.replayHooks()
  }
}

/** `client.queue(name, defaultJobOptions)` over the native client. */
function queue(nativeClient, dispatch, name, defaults) {
  return makeQueue(
    (n, d) => {
      const text = optionsText(d)
      return backend(callNative(() => nativeClient.queue(n, text)), dispatch)
    },
    name,
    defaults,
    Queue,
  )
}

module.exports = { Job, Queue, queue }
