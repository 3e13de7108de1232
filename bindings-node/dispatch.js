'use strict'
// The JS half of the completion queue (see src/completion.rs): one per client. Each
// operation gets an id and a pending entry; the native side runs it on the JS thread (see
// src/executor.rs) and queues its outcome. `settle` takes what a native call hands back: it
// writes the output to the connection and settles every finished operation. Operations
// started in one JS job share such calls (a microtask, or every WRITE_EVERY operations),
// and so share writes; an operation sent at once asks its own start call for them.

const { AsyncLocalStorage } = require('node:async_hooks')
const { Closed, JobFailed, TimeoutError, fromNative } = require('./errors.js')

// The host call (a loader) the running code is part of, `{ dispatcher, id }`, so that a
// getOrSet made from a loader names it and the core can refuse a loader asking for its
// own key (see `loaderOf`). Enabled only while some loader runs: in Node 20 an enabled
// AsyncLocalStorage makes every promise of the process slower.
const loading = new AsyncLocalStorage()
let loadersRunning = 0

const TAG_ERR = 1
// A host call (src/host.rs): the tag's low two bits; a call's target is above them.
const TAG_CALL = 2
const TAG_ABORT = 3
// Flags in the header (see `header`).
const FLAG_OUTPUT = 1
const FLAG_MORE = 2
// Operations one native call can report; more wait for the next (FLAG_MORE).
const HEADER_OPERATIONS = 1024
// Batching writes roughly doubled rate-limit decisions at concurrency 64 and 16 gave cache
// hits the most (bench/results/code-notes.md).
const WRITE_EVERY = 16
// Host calls returned in one turn from which they are handed over in two halves (see `#pump`).
const SPLIT_RESOLVED = 8

class Dispatcher {
  // Operations in flight, indexed by id. An id is reused once its operation is settled
  // (the native side never reports an id twice), so the array only grows to the most
  // operations ever in flight at once. Not a Map: a busy Map rehashes into new tables that
  // its old ones keep alive for iterators, and at concurrency 64 that left megabytes for
  // every young-generation GC to copy (the p99 of bench/node; bench/results/code-notes.md).
  #entries = []
  #free = []
  #inFlight = 0
  // Functions the core may call (`register`), by id, and the AbortController of each host
  // call JS is running, by call id.
  #functions = []
  // Whether each registered function takes its argument as a string, and whether it is
  // handed an AbortSignal (`register`).
  #takesText = []
  #takesSignal = []
  #freeFunctions = []
  #calls = new Map()
  #scheduled = false
  // Host calls that returned since the last pump: their ids and values, handed over in
  // one native call by the pump (see `#callHost`).
  #resolvedIds = []
  #resolvedValues = []
  // Operations started since the last write (see `submit`).
  #unsent = 0
  // A timer that is ref'd only while operations are in flight: the native wake-up is weak,
  // so an idle client never keeps the process alive, and a busy one always does.
  #keepAlive = setInterval(() => {}, 0x7fffffff)
  native = null
  /** The client's per-operation calls as plain functions (`NativeClient.functions()`). */
  functions = null
  /** The connection (link.js), or null on the embedded engine: it writes the output. */
  link = null
  /**
   * Shared with the native side (src/completion.rs), which writes `[count, flags, id, tag,
   * id, tag, ...]` into it on every call that hands back completions: a memory write costs
   * nothing, an element of a JS array set from native code costs more than a GET's parse.
   */
  header = new Uint32Array(2 + 2 * HEADER_OPERATIONS)

  constructor() {
    this.#keepAlive.unref()
    // Called by the native side when a task was woken off the JS thread.
    this.wake = () => {
      this.native.poll()
      this.schedule()
    }
    this.pumpNow = () => {
      this.#scheduled = false
      this.#unsent = 0
      this.#pump()
    }
  }

  /**
   * Start an operation: `start(op)` calls the native function with `op`, the operation's
   * `Start` (`2 * id + take`, see src/completion.rs); it may throw at once for bad
   * arguments. `decode` turns the native value into the result; `loader`, for getOrSet,
   * is the host function the core calls on a miss: `loader(key, signal)` returns the
   * encoded value.
   */
  submit(start, decode, loader) {
    const free = this.#free
    const id = free.length > 0 ? free.pop() : this.#entries.length
    if (this.link !== null) this.link.demand()
    // The entry comes first: a start that takes completions can hand back this very
    // operation, finished (the embedded engine, a rate limiter's local block).
    const promise = new Promise((resolve, reject) => {
      this.#entries[id] = { resolve, reject, decode, loader }
    })
    if (this.#inFlight++ === 0) this.#keepAlive.ref()
    // A lone operation is written at once, as a JS client would, by its own start call.
    // Many operations started in one job leave in writes of WRITE_EVERY, not in one at the
    // end: Redis starts on the first ones while JS is still starting the others, so the
    // two overlap instead of taking turns (a batch of 64 scripts kept either side idle
    // half the time).
    const now = this.#inFlight === 1 || ++this.#unsent >= WRITE_EVERY
    let result
    try {
      result = start(now ? 2 * id + 1 : 2 * id)
    } catch (err) {
      this.#release(id)
      return Promise.reject(fromNative(err))
    }
    if (now) {
      this.#unsent = 0
      this.settle(result)
    } else {
      this.schedule()
    }
    return promise
  }

  /** Pump once, after the current JS job: the operations started since the last write share one. */
  schedule() {
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(this.pumpNow)
  }

  #pump() {
    if (this.#resolvedIds.length === 0) {
      this.settle(this.functions.takeCompletions())
      return
    }
    const ids = this.#resolvedIds
    const values = this.#resolvedValues
    this.#resolvedIds = []
    this.#resolvedValues = []
    if (ids.length < SPLIT_RESOLVED) {
      this.settle(this.functions.hostResolved(ids, values))
      return
    }
    // In two halves: a worker whose finish task is idle sends the first half's ends at
    // once and the second's after that reply, and its jobs then come back in two groups
    // that take turns, one run here while the server finishes the other. In one batch the
    // two sides would wait for each other on every round trip.
    const half = ids.length >>> 1
    this.settle(this.functions.hostResolved(ids.slice(0, half), values.slice(0, half)))
    this.settle(this.functions.hostResolved(ids.slice(half), values.slice(half)))
  }

  /**
   * Act on what a native call handed back, with the header it wrote: the output to write
   * first (FLAG_OUTPUT), then one value per finished operation; a lone thing comes by
   * itself, several in an array.
   */
  settle(result) {
    const header = this.header
    const count = header[0]
    const flags = header[1]
    if (count === 0) {
      if (flags & FLAG_OUTPUT) this.link.write(result)
    } else if (count === 1 && !(flags & FLAG_OUTPUT)) {
      this.#finish(header[2], header[3], result)
    } else {
      let at = 0
      if (flags & FLAG_OUTPUT) this.link.write(result[at++])
      // A copy: settling runs callers' code, which may start operations whose native calls
      // write the header again.
      const finished = header.slice(2, 2 + 2 * count)
      for (let i = 0; i < count; i++) this.#finish(finished[2 * i], finished[2 * i + 1], result[at + i])
    }
    if (flags & FLAG_MORE) this.#pump()
  }

  #finish(id, tag, value) {
    // One comparison for an operation's end (the hit path), as before host calls.
    if (tag > TAG_ERR) {
      if ((tag & 3) === TAG_CALL) this.#callHost(id, tag >>> 2, value)
      else if (tag === TAG_ABORT) this.#calls.get(id)?.abort(abortReason(value))
      return
    }
    const entry = this.#entries[id]
    if (entry === undefined) return
    this.#release(id)
    if (tag === TAG_ERR) {
      entry.reject(fromNative(value))
    } else if (entry.decode === null) {
      entry.resolve(value)
    } else {
      try {
        entry.resolve(entry.decode(value))
      } catch (err) {
        entry.reject(err)
      }
    }
  }

  /** Operation `id` is over: its id is free again. */
  #release(id) {
    this.#entries[id] = undefined
    this.#free.push(id)
    if (--this.#inFlight === 0) this.#keepAlive.unref()
  }

  /**
   * Let the core call `fn(arg: Buffer, signal: AbortSignal)` (the host-callback contract,
   * src/host.rs): returns its id, for the native side. Returns a string or a Buffer (or a
   * promise of one); `unregister(id)` once the core is done with it. `text`: `arg` is a
   * string instead (the native side's `JsHost::text` must call it: a worker's processor,
   * whose job is JSON text). `signal` false: `fn` gets no AbortSignal, and an abort from the
   * core is not passed on (making one is a large share of a no-op job's time on the JS
   * thread: bench/results/node-queue.md).
   */
  register(fn, text = false, signal = true) {
    const id = this.#freeFunctions.length > 0 ? this.#freeFunctions.pop() : this.#functions.length
    this.#functions[id] = fn
    this.#takesText[id] = text
    this.#takesSignal[id] = signal
    return id
  }

  /** Function `id` will not be called again. */
  unregister(id) {
    this.#functions[id] = undefined
    this.#freeFunctions.push(id)
  }

  /**
   * Run host call `callId` of `target` (`2 * id + registered`: an operation's loader or a
   * registered function). A loader runs inside `loading`, so a getOrSet it makes names it.
   */
  async #callHost(callId, target, arg) {
    const loader = (target & 1) === 0
    const fn = loader ? this.#entries[target >>> 1]?.loader : this.#functions[target >>> 1]
    const controller = loader || this.#takesSignal[target >>> 1] ? new AbortController() : null
    if (controller !== null) this.#calls.set(callId, controller)
    const scope = loader ? { dispatcher: this, id: callId } : null
    if (loader) loadersRunning++
    try {
      if (typeof fn !== 'function') throw new TypeError(`no host function for target ${target}`)
      const text = !loader && this.#takesText[target >>> 1]
      const input = typeof arg === 'string' && !text ? Buffer.from(arg, 'latin1') : arg
      const value = await (loader ? loading.run(scope, fn, input, controller.signal) : fn(input, controller?.signal))
      if (typeof value !== 'string' && !Buffer.isBuffer(value)) {
        throw new TypeError(`a host function returns a string or a Buffer, got ${value === null ? 'null' : typeof value}`)
      }
      // Handed over by the pump with every other call that returned in this turn: one
      // native call for them all, and the core sees them together (a worker sends all
      // their ends in one round trip rather than the first one alone).
      this.#resolvedIds.push(callId)
      this.#resolvedValues.push(value)
    } catch (err) {
      // The function's own error (or its result's conversion error), kept for the caller.
      const { name, message, stack } = describe(err)
      this.native.hostRejected(callId, err, name, message, stack)
    } finally {
      if (loader) {
        // A call the loader left running names no call once it ended.
        scope.id = undefined
        if (--loadersRunning === 0) loading.disable()
      }
    }
    if (controller !== null) this.#calls.delete(callId)
    this.schedule()
  }

  /** The id of this client's host call (a loader) the running code is part of, if any. */
  loaderOf() {
    const scope = loading.getStore()
    return scope !== undefined && scope.dispatcher === this ? scope.id : undefined
  }
}

/**
 * Why the core aborted a host call (`Cancel::reason`, "Kind: message"; a worker's job: its
 * timeout, a cancel, a forced close, a lost lease) as the AbortSignal's reason: a
 * TimeoutError, a Closed, or a JobFailed; undefined (the signal's own AbortError) when the
 * core gave none.
 */
function abortReason(text) {
  if (typeof text !== 'string') return undefined
  const at = text.indexOf(': ')
  const kind = at < 0 ? '' : text.slice(0, at)
  const message = at < 0 ? text : text.slice(at + 2)
  if (kind === 'TimeoutError') return new TimeoutError(message)
  if (kind === 'Closed') return new Closed(message)
  return new JobFailed(message)
}

/** The name, message and stack of whatever a function threw. */
function describe(err) {
  if (err !== null && typeof err === 'object') {
    const name = typeof err.name === 'string' ? err.name : (err.constructor?.name ?? 'Error')
    const stack = typeof err.stack === 'string' ? err.stack : null
    return { name, message: String(err.message ?? ''), stack }
  }
  return { name: typeof err, message: String(err), stack: null }
}

module.exports = { Dispatcher }
