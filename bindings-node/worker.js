'use strict'
// `Worker`: the JS face of the core's worker engine (src/worker.rs). Fetching, concurrency,
// leases, the limiter, timeouts, cancellation, retries, stalled recovery and the events
// are the Rust core's; this file converts. The processor is registered with the client's
// dispatcher and called through the host-callback contract: it gets the job (JSON text,
// `queue.js`'s camelCase form) and an AbortSignal, and its result is stored as JSON text.
// The worker's events are read off the core in batches and re-emitted on the EventEmitter.

const { EventEmitter } = require('node:events')
const { RedkitError, EncodeError, InvalidArgument, JobFailed, Closed, fromNative } = require('./errors.js')
const { Job, queue } = require('./queue.js')
const { progressText } = require('./facade/queue.js')

// Guards the constructor: workers come from `client.worker`.
const INTERNAL = Symbol('redkit.worker.internal')

/**
 * Throw it from a processor to fail the job at once, whatever attempts it has left (the
 * core knows it by its name, as in every runtime).
 */
class UnrecoverableError extends RedkitError {
  constructor(message, options) {
    super(message, options)
    this.code = 'ERR_UNRECOVERABLE'
  }
}

/**
 * A subclass of UnrecoverableError as the class itself (the core reads the error's name),
 * its own name kept in the message and the stack kept whole.
 */
function processorError(err) {
  if (!(err instanceof UnrecoverableError) || err.name === 'UnrecoverableError') return err
  const out = new UnrecoverableError(`${err.name}: ${err.message}`, { cause: err })
  if (typeof err.stack === 'string') out.stack = err.stack
  return out
}

/** A processor's result as the JSON text stored on the job; `undefined` is null. */
function resultText(value) {
  if (value === undefined) return 'null'
  let text
  try {
    text = JSON.stringify(value)
  } catch (err) {
    throw new EncodeError(`the processor's result cannot be stored as JSON: ${err.message}`, { cause: err })
  }
  if (text === undefined) throw new EncodeError(`the processor's result cannot be stored as JSON: ${typeof value}`)
  return text
}

/** A job being processed: a `Job` that can report progress and write log lines. */
class WorkerJob extends Job {
  #ops
  #dispatch

  constructor(queue, fields, ops, dispatch) {
    super(queue, fields)
    this.#ops = ops
    this.#dispatch = dispatch
  }

  /** Report progress (any JSON value): stored on the job and emitted as the worker's `progress` event. */
  updateProgress(progress) {
    let text
    try {
      text = progressText(progress)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#dispatch.submit((op) => this.#ops.updateProgress(op, this.id, text), null, null).then(() => {
      this.progress = progress
    })
  }

  /** Append a line to the job's log; resolves to the number of lines. */
  log(line) {
    if (typeof line !== 'string') return Promise.reject(new InvalidArgument(`a log line must be a string, got ${typeof line}`))
    return this.#dispatch.submit((op) => this.#ops.log(op, this.id, line), JSON.parse, null)
  }
}

/** Runs `processor(job, signal)` over a queue's jobs; from `client.worker(queue, processor, opts)`. */
class Worker extends EventEmitter {
  #native
  #ops
  #dispatch
  #processor
  #name
  #owner
  // The queue its jobs belong to (`job.queue`, and `job.state()`, `remove()`, `retry()`).
  #queue
  // Deliveries handed to the processor whose end has not been reported yet, by job id,
  // oldest first, each with the error the processor threw: the events carry ids, the
  // listeners get these. A list: a retry may start before the event of the attempt before
  // it has been read off the core (the attempts of one job end in order). Bounded by the
  // core's `kept`: a delivery whose lease was lost, or whose event the reader skipped after
  // falling behind, gets no event, so the oldest are let go past it.
  #jobs = new Map()
  #kept
  // What the core was last told (`listenCompleted`): whether `completed` events are
  // written and read off it, one per job, which only a listener needs.
  #completedWanted = false
  // The event pump's promise once started (what `run()` returns); null before.
  #done = null
  #closing = null
  #forced = false
  #paused = false

  constructor(token, nativeClient, dispatch, name, processor, opts, owner) {
    super()
    if (token !== INTERNAL) throw new InvalidArgument('use client.worker(queue, processor, opts) to make a worker')
    this.#dispatch = dispatch
    this.#name = name
    this.#owner = owner
    // A processor declared with one parameter, `(job) => …`, cannot read a signal: it gets
    // none, which spares each job an AbortSignal (as Express tells error handlers by their
    // arity). Any other arity, `(...args)` included, gets one.
    const wantsSignal = processor.length !== 1
    this.#processor = dispatch.register((arg, signal) => this.#process(processor, arg, signal), true, wantsSignal)
    try {
      this.#native = nativeClient.worker(name, this.#processor, opts)
      this.#kept = this.#native.kept
    } catch (err) {
      dispatch.unregister(this.#processor)
      throw fromNative(err)
    }
    this.#ops = this.#native.functions()
    this.#queue = queue(nativeClient, dispatch, name)
    // A `completed` listener wants the events of the jobs running now too: the core is
    // told at once (and checked again as each job ends, see `#process`).
    this.on('newListener', (event) => {
      if (event === 'completed') this.#wantCompleted(true)
    })
    owner.add(this)
    // As BullMQ's: the worker starts now unless `autorun: false`; `run()` then starts it.
    if (this.#native.autorun) this.run().catch((err) => this.#emitError(err))
  }

  /** This worker's id, as the queue's worker list shows it. */
  get id() {
    return this.#native.id
  }

  /** The queue's name. */
  get name() {
    return this.#name
  }

  #wantCompleted(on) {
    if (on === this.#completedWanted) return
    this.#completedWanted = on
    this.#native.listenCompleted(on)
  }

  async #process(processor, arg, signal) {
    const job = new WorkerJob(this.#queue, JSON.parse(arg), this.#ops, this.#dispatch)
    const entry = { job, error: undefined }
    const pending = this.#jobs.get(job.id)
    if (pending !== undefined) pending.push(entry)
    else if (this.#jobs.set(job.id, [entry]).size > this.#kept) this.#jobs.delete(this.#jobs.keys().next().value)
    let result
    try {
      result = resultText(await processor(job, signal))
    } catch (err) {
      entry.error = err
      throw processorError(err)
    }
    // Looked at as each job ends, as well as on `newListener`: listeners may also go, or
    // all be removed at once (`removeAllListeners()` takes the `newListener` hook too).
    this.#wantCompleted(this.listenerCount('completed') > 0)
    // No `completed` event will come for it: nothing to keep it for.
    if (!this.#completedWanted) this.#forget(job.id, entry)
    return result
  }

  /** Let go of delivery `entry` of job `id`. */
  #forget(id, entry) {
    const pending = this.#jobs.get(id)
    if (pending === undefined) return
    const at = pending.indexOf(entry)
    if (at >= 0) pending.splice(at, 1)
    if (pending.length === 0) this.#jobs.delete(id)
  }

  /**
   * Start fetching (once; `autorun` does it at construction). Resolves when the worker is
   * closed, and at once for a worker already closed.
   */
  run() {
    if (this.#done === null) {
      try {
        this.#native.start()
      } catch (err) {
        return Promise.reject(fromNative(err))
      }
      this.#done = this.#pump()
    }
    return this.#done
  }

  // Read the core's events until the worker is closed. The pending read is an operation in
  // flight, which keeps the process alive while the worker runs, and only then.
  async #pump() {
    for (;;) {
      let text
      try {
        text = await this.#dispatch.submit((op) => this.#ops.next(op), null, null)
      } catch (err) {
        this.#emitError(fromNative(err))
        break
      }
      if (text === null) break
      for (const e of JSON.parse(text)) this.#deliver(e)
    }
    this.#jobs.clear()
  }

  #deliver(e) {
    switch (e.event) {
      case 'completed': {
        const entry = this.#take(e.jobId)
        if (entry !== undefined) {
          entry.job.returnValue = e.result
          entry.job.attemptsMade += 1
        }
        this.emit('completed', entry?.job, e.result)
        break
      }
      case 'failed': {
        const entry = this.#take(e.jobId)
        const own = entry?.error !== undefined && (e.kind === 'error' || e.kind === 'unrecoverable')
        const error = own ? entry.error : Object.assign(new JobFailed(e.reason), { kind: e.kind })
        if (entry !== undefined) {
          entry.job.failedReason = e.reason
          entry.job.attemptsMade += 1
        }
        this.emit('failed', entry?.job, error, e.willRetry)
        break
      }
      case 'progress':
        this.emit('progress', this.#jobs.get(e.jobId)?.at(-1).job, e.progress)
        break
      case 'stalled':
        this.emit('stalled', e.jobId)
        break
      case 'error':
        this.#emitError(new RedkitError(e.message))
        break
      case 'drained':
        this.emit('drained')
        break
    }
  }

  /** The oldest delivery of job `id` not reported yet. */
  #take(id) {
    const pending = this.#jobs.get(id)
    if (pending === undefined) return undefined
    const entry = pending.shift()
    if (pending.length === 0) this.#jobs.delete(id)
    return entry
  }

  // An EventEmitter throws an 'error' nobody listens to: the worker reports it to whoever
  // listens and goes on (it retries with a backoff) rather than crash the process.
  #emitError(err) {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  /**
   * Stop fetching and wait for the jobs in flight (`close()`), or abort their signals and
   * leave them to stalled recovery (`close(true)`, as BullMQ's `close(force)`). Resolves
   * once the worker is stopped; from then on it keeps nothing alive.
   */
  close(force = false) {
    const forced = Boolean(force)
    if (this.#closing !== null && !(forced && !this.#forced)) return this.#closing
    this.#forced ||= forced
    this.#closing = this.#dispatch.submit((op) => this.#ops.close(op, !forced), null, null).then(async () => {
      if (this.#done !== null) await this.#done
      this.#owner.delete(this)
      this.#dispatch.unregister(this.#processor)
      this.#processor = -1
    })
    return this.#closing
  }

  /** Take no new jobs; those in flight go on. */
  pause() {
    this.#native.pause()
    this.#paused = true
  }

  /** Take jobs again after `pause()`. */
  resume() {
    this.#native.resume()
    this.#paused = false
  }

  /** Whether `pause()` holds the worker. */
  isPaused() {
    return this.#paused
  }

  /** Whether the worker was started and not closed. */
  isRunning() {
    return this.#done !== null && this.#closing === null
  }

  /** Jobs being processed now. */
  jobsInFlight() {
    return this.#native.jobsInFlight()
  }
}

/** `client.worker(queue, processor, opts)` over the native client; `owner` holds the client's workers. */
function worker(nativeClient, dispatch, name, processor, opts, owner, closed) {
  if (closed) throw new Closed('the client is closed')
  if (typeof name !== 'string') throw new InvalidArgument(`queue name must be a string, got ${typeof name}`)
  if (typeof processor !== 'function') {
    throw new InvalidArgument(`processor must be a function (job, signal) => result, got ${processor === null ? 'null' : typeof processor}`)
  }
  return new Worker(INTERNAL, nativeClient, dispatch, name, processor, opts, owner)
}

module.exports = { UnrecoverableError, Worker, WorkerJob, worker }
