'use strict'
// `Queue` and `Job`: the JS face of the native queue. Only conversion happens here: data
// and options cross as JSON text (options camelCase, BullMQ's names and units; the core's
// schema reads them, see src/queue.rs), jobs come back as JSON text and become `Job`
// objects. Every queue decision is the Rust core's.

const { DecodeError, InvalidArgument, fromNative } = require('./errors.js')

// Guards the constructor: queues come from `client.queue`.
const INTERNAL = Symbol('redkit.queue.internal')

/** JSON text of a job's data (or of an option object); what JSON cannot hold is refused. */
function jsonText(value, what, replacer) {
  let text
  try {
    text = JSON.stringify(value, replacer)
  } catch (err) {
    if (err instanceof InvalidArgument) throw err
    throw new DecodeError(`${what} cannot be encoded as JSON: ${err.message}`, { cause: err })
  }
  if (text === undefined) throw new DecodeError(`${what} cannot be encoded as JSON: ${typeof value}`)
  return text
}

// JSON would write NaN and Infinity as null, which the core reads as "not set": refuse them
// here, as the core refuses them when an option reaches it as a number (every other runtime).
function finiteOption(name, value) {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new InvalidArgument(`${name} must be a finite number, got ${value}`)
  }
  return value
}

/** Options: absent, or a plain object (a typo'd type is worth an error, not silence). */
function optionsText(opts, what) {
  if (opts === undefined || opts === null) return null
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new InvalidArgument(`${what} must be an object`)
  return jsonText(opts, what, finiteOption)
}

function checkString(value, what) {
  if (typeof value !== 'string') throw new InvalidArgument(`${what} must be a string, got ${typeof value}`)
}

/** A job, as read from its hash when the call returned. */
class Job {
  constructor(fields) {
    /** The id (automatic ids are decimal integers). */
    this.id = fields.id
    /** The name given at add. */
    this.name = fields.name
    /** The payload. */
    this.data = fields.data
    /** The effective options (the queue's defaults under the add's), camelCase. */
    this.opts = fields.opts
    /** Attempts that have ended, success included. */
    this.attemptsMade = fields.attemptsMade
    /** The last progress reported, or null. */
    this.progress = fields.progress
    /** The processor's result once completed, or null. */
    this.returnValue = fields.returnValue
    /** Why the last attempt failed, or null. */
    this.failedReason = fields.failedReason
    /** When the job was added (server ms since the epoch). */
    this.timestamp = fields.timestamp
    /** When its last attempt started (server ms), or null. */
    this.processedOn = fields.processedOn
    /** When it completed or failed for good (server ms), or null. */
    this.finishedOn = fields.finishedOn
    /** The stack texts of the last errors, oldest first. */
    this.stacktrace = fields.stacktrace
  }
}

const toJob = (text) => new Job(JSON.parse(text))
const toJobOrNull = (text) => (text === null ? null : toJob(text))
const toJobs = (text) => JSON.parse(text).map((f) => new Job(f))

/** A named queue; from `client.queue(name, defaultJobOptions)`. */
class Queue {
  #native
  #nativeQueue
  #dispatch
  #name

  constructor(token, nativeQueue, dispatch, name) {
    if (token !== INTERNAL) throw new InvalidArgument('use client.queue(name, defaultJobOptions) to make a queue')
    this.#nativeQueue = nativeQueue
    this.#native = nativeQueue.functions()
    this.#dispatch = dispatch
    this.#name = name
  }

  /** The queue's name. */
  get name() {
    return this.#name
  }

  /** Send one native operation; input errors reject the promise instead of throwing. */
  #call(start, decode, prepare) {
    let args
    try {
      args = prepare === undefined ? [] : prepare()
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#dispatch.submit((op) => start(op, ...args), decode, null)
  }

  /** Add one job: `opts` as BullMQ's (jobId, priority, delay, attempts, backoff, removeOnComplete, …). */
  add(name, data, opts) {
    return this.#call((op, ...a) => this.#native.add(op, ...a), toJob, () => {
      checkString(name, 'job name')
      return [name, jsonText(data, 'job data'), optionsText(opts, 'job options')]
    })
  }

  /** Add `[{name, data, opts}]` atomically, in one round trip. */
  addBulk(jobs) {
    return this.#call((op, text) => this.#native.addBulk(op, text), toJobs, () => {
      if (!Array.isArray(jobs)) throw new InvalidArgument('addBulk takes an array of { name, data, opts } objects')
      jobs.forEach((j, i) => {
        if (j === null || typeof j !== 'object') throw new InvalidArgument(`addBulk: jobs[${i}] must be an object`)
        if (j.data === undefined) throw new InvalidArgument(`addBulk: jobs[${i}].data is missing`)
      })
      return [jsonText(jobs, 'addBulk jobs')]
    })
  }

  /** The job `id`, or null. */
  getJob(id) {
    return this.#call((op, i) => this.#native.getJob(op, i), toJobOrNull, () => {
      checkString(id, 'job id')
      return [id]
    })
  }

  /** Jobs in `states` (a name or an array of names), positions `start..end` (inclusive) of each. */
  getJobs(states, start = 0, end = -1) {
    return this.#call((op, ...a) => this.#native.getJobs(op, ...a), toJobs, () => {
      const list = typeof states === 'string' ? [states] : states
      if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
        throw new InvalidArgument('states must be a state name or an array of them')
      }
      if (typeof start !== 'number' || typeof end !== 'number') throw new InvalidArgument('start and end must be numbers')
      return [JSON.stringify(list), start, end]
    })
  }

  /** `{waiting, active, delayed, completed, failed, prioritized, paused?}`. */
  counts() {
    return this.#call((op) => this.#native.counts(op), JSON.parse)
  }

  /** Hand out no more jobs (adds still succeed). */
  pause() {
    return this.#call((op) => this.#native.pause(op), null)
  }

  /** Hand out jobs again. */
  resume() {
    return this.#call((op) => this.#native.resume(op), null)
  }

  /** Whether the queue is paused. */
  isPaused() {
    return this.#call((op) => this.#native.isPaused(op), JSON.parse)
  }

  /** Move every job of `state` (`failed` by default, or `completed`) back to waiting; the number moved. */
  retryJobs(state = 'failed') {
    return this.#call((op, s) => this.#native.retryJobs(op, s), JSON.parse, () => {
      checkString(state, 'state')
      return [state]
    })
  }

  /** Run a delayed job now; whether it was delayed. */
  promote(id) {
    return this.#idCall((op, i) => this.#native.promote(op, i), id)
  }

  /** Remove a job (not an active one); whether it existed. */
  remove(id) {
    return this.#idCall((op, i) => this.#native.remove(op, i), id)
  }

  /** Ask for job `id` to be cancelled: a waiting job fails at once, a running one's signal aborts. */
  cancel(id) {
    return this.#idCall((op, i) => this.#native.cancel(op, i), id)
  }

  #idCall(start, id) {
    return this.#call(start, JSON.parse, () => {
      checkString(id, 'job id')
      return [id]
    })
  }

  /** Remove up to `limit` jobs of `state` finished more than `grace` ms ago; their ids. */
  clean(grace, limit, state = 'completed') {
    return this.#call((op, ...a) => this.#native.clean(op, ...a), JSON.parse, () => {
      if (typeof grace !== 'number' || typeof limit !== 'number') throw new InvalidArgument('grace and limit must be numbers')
      checkString(state, 'state')
      return [grace, limit, state]
    })
  }

  /** Remove every waiting job (and delayed ones when `delayed`). */
  drain(delayed = false) {
    return this.#call((op, d) => this.#native.drain(op, d), null, () => [Boolean(delayed)])
  }

  /** The state of job `id` (`waiting`, `delayed`, `active`, `completed`, `failed`), or null once removed. */
  getJobState(id) {
    return this.#idCall((op, i) => this.#native.state(op, i), id)
  }

  /**
   * Create or replace scheduler `id`: a job named `name` with `data` and `opts` every
   * `every` ms, or on the `cron` pattern in time zone `tz`; one job per slot however many
   * workers run.
   */
  upsertScheduler(id, spec) {
    return this.#call((op, ...a) => this.#native.upsertScheduler(op, ...a), null, () => {
      checkString(id, 'scheduler id')
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
        throw new InvalidArgument('a scheduler spec must be an object { every | cron, tz, name, data, opts }')
      }
      return [id, jsonText(spec, 'scheduler spec', finiteOption)]
    })
  }

  /** Remove scheduler `id` and its pending job; whether it existed. */
  removeScheduler(id) {
    return this.#idCall((op, i) => this.#native.removeScheduler(op, i), id)
  }

  /** Every scheduler of the queue: `{id, every?, cron?, tz?, name, data, opts, next}`. */
  schedulers() {
    return this.#call((op) => this.#native.schedulers(op), JSON.parse)
  }

  /** Test hook (the conformance replay): the calls a worker makes, as promises. Not API. */
  __replayHooks() {
    const hooks = this.#nativeQueue.__replayHooks()
    const submit = (start, decode) => this.#dispatch.submit(start, decode, null)
    return {
      take: () => submit((op) => hooks.take(op), JSON.parse),
      finish: (id, token, end) => submit((op) => hooks.finish(op, id, token, JSON.stringify(end)), JSON.parse),
      maintain: () => submit((op) => hooks.maintain(op), JSON.parse),
    }
  }

  /** Remove the whole queue; refuses while jobs are active unless `{ force: true }`. */
  obliterate(opts) {
    return this.#call((op, f) => this.#native.obliterate(op, f), null, () => [Boolean(opts != null && opts.force)])
  }
}

/** `client.queue(name, defaultJobOptions)` over the native client. */
function queue(nativeClient, dispatch, name, defaults) {
  checkString(name, 'queue name')
  const text = optionsText(defaults, 'default job options')
  let nativeQueue
  try {
    nativeQueue = nativeClient.queue(name, text)
  } catch (err) {
    throw fromNative(err)
  }
  return new Queue(INTERNAL, nativeQueue, dispatch, name)
}

module.exports = { Job, Queue, queue }
