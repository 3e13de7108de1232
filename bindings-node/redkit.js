'use strict'
// The public face of the npm package: `Client` over the native client, the door to the
// patterns. `Cache`, `RateLimiter`, `Queue` and `Job` are the facade shared with the edge
// package (facade/, from the repository's js/) over this package's backends (cache.js,
// ratelimit.js, queue.js); the worker is this package's alone (worker.js).

const native = require('./index.js')
const errors = require('./errors.js')
const { Dispatcher } = require('./dispatch.js')
const { Link } = require('./link.js')
const { Cache } = require('./facade/cache.js')
const { cache } = require('./cache.js')
const { RateLimiter, rateLimiter } = require('./ratelimit.js')
const { Job, Queue, queue } = require('./queue.js')
const { UnrecoverableError, Worker, worker } = require('./worker.js')
const { QueueEvents } = require('./events.js')

const { InvalidArgument, callNative } = errors

// Guards the constructor: clients come from `Client.connect`.
const INTERNAL = Symbol('redkit.internal')

/** A connection to Redis (one multiplexed connection, shared) and the door to the patterns. */
class Client {
  #native
  #dispatch
  #link
  // Workers made by this client and not closed yet: `close()` closes them first.
  #workers = new Set()
  #closed = false
  #onIncident = null
  // Whether the native client reports to `#report` (set once, on the first hook).
  #reporting = false

  constructor(token, nativeClient, dispatch, link) {
    if (token !== INTERNAL) throw new InvalidArgument('use await Client.connect(url, opts) to make a client')
    this.#native = nativeClient
    this.#dispatch = dispatch
    this.#link = link
  }

  /**
   * Test hook for the host-callback contract (src/host.rs): the core calls `fn(arg, signal)`
   * `calls` times, `concurrency` at a time, aborting the signal of every `cancelEvery`-th
   * call `cancelAfterMs` after it starts; yields every call's report
   * (`{ index, cancelled, value?, error?: { kind, message, trace } }`) as calls end.
   */
  async *__runManyForTests(fn, { calls, concurrency, cancelEvery = 0, cancelAfterMs = 1 }) {
    const id = this.#dispatch.register(fn)
    try {
      const reports = this.#native.runManyForTests({ function: id, calls, concurrency, cancelEvery, cancelAfterMs })
      for (;;) {
        const text = await this.#dispatch.submit((op) => reports.next(op), null, null)
        if (text === null) return
        yield JSON.parse(text)
      }
    } finally {
      this.#dispatch.unregister(id)
    }
  }

  /** Connect to `url`; fails fast unless `lazyConnect`. */
  static async connect(url, opts) {
    const dispatch = new Dispatcher()
    const nativeClient = callNative(() => native.NativeClient.open(url, opts, dispatch.wake))
    dispatch.native = nativeClient
    dispatch.functions = nativeClient.functions(dispatch.header)
    const address = nativeClient.address()
    const link = address === null ? null : new Link(nativeClient, dispatch.functions, dispatch, address)
    dispatch.link = link
    if (link !== null && address.lazyConnect) {
      return new Client(INTERNAL, nativeClient, dispatch, link)
    }
    try {
      if (link !== null) await link.start()
      await dispatch.submit((op) => dispatch.functions.checkLayout(op), null, null)
    } catch (err) {
      await dispatch.submit((op) => dispatch.functions.close(op), null, null).catch(() => {})
      if (link !== null) link.end()
      throw err
    }
    return new Client(INTERNAL, nativeClient, dispatch, link)
  }

  /**
   * An in-process engine instead of a server: every pattern, the same scripts and results,
   * no Redis needed (tests, single-process apps). Its data lives and dies with the process.
   */
  static embedded(opts) {
    return Client.connect('embedded://', opts)
  }

  /** The key prefix. */
  get prefix() {
    return this.#native.prefix
  }

  /** Round-trip a PING. */
  async ping() {
    await this.#dispatch.submit((op) => this.#dispatch.functions.ping(op), null, null)
  }

  /**
   * Be told of decisions made because Redis failed (a fail-safe cache answering without it,
   * a rate limiter's `onError` or `insurance`): `hook({ pattern, name, fallback, count,
   * message, error })`, at most once per 10 s per cache or limiter, `count` the decisions
   * since the last report; `null` stops the reports. Nothing is written to the console.
   */
  onIncident(hook) {
    if (hook !== null && hook !== undefined && typeof hook !== 'function') {
      throw new InvalidArgument('onIncident takes a function or null')
    }
    if (hook === null || hook === undefined) {
      this.#onIncident = null
      return
    }
    this.#onIncident = hook
    if (!this.#reporting) {
      this.#reporting = true
      this.#native.onIncident((json) => this.#report(json))
    }
  }

  #report(json) {
    const hook = this.#onIncident
    if (hook === null) return
    try {
      hook(JSON.parse(json))
    } catch {
      // A hook that throws must not fail anything: the decision it reports has been made.
    }
  }

  /** Close the connection (after closing this client's workers gracefully); every later call fails with `Closed`. */
  async close() {
    this.#closed = true
    await Promise.all([...this.#workers].map((w) => w.close()))
    try {
      await this.#dispatch.submit((op) => this.#dispatch.functions.close(op), null, null)
    } finally {
      if (this.#link !== null) this.#link.end()
    }
  }

  /** Server version, persistence, eviction policy and warnings. */
  async check() {
    return this.#dispatch.submit((op) => this.#dispatch.functions.check(op), JSON.parse, null)
  }

  /** A cache namespace. Options (durations in ms or with a unit, '5m'): ttl, jitter, staleTtl, earlyRefresh, lock, lockTimeout, codec (json, bytes or msgpack); nearCache: entries kept in this process, coherent through Redis key tracking. */
  cache(namespace, opts) {
    return cache(this.#native, this.#dispatch, namespace, opts)
  }

  /**
   * A named rate limiter. Options (durations in ms or with a unit, '1m'): limit, window, algorithm, burst,
   * limits, countDenied, onError, timeout, localBlock, clock.
   */
  rateLimiter(name, opts) {
    return rateLimiter(this.#native, this.#dispatch, name, opts)
  }

  /**
   * A durable job queue, returned at once. `defaultJobOptions` as BullMQ's (attempts,
   * backoff {type, delay}, delay, priority, removeOnComplete {age (s), count}, …).
   */
  queue(name, defaultJobOptions) {
    return queue(this.#native, this.#dispatch, name, defaultJobOptions)
  }

  /**
   * A worker running `processor(job, signal)` over the jobs of `queueName`, returned at
   * once; it starts fetching unless `autorun: false`. Options (durations in ms or with a
   * unit): concurrency, limiter {max, duration}, lockDuration, stalledInterval,
   * maxStalledCount, autorun, drainDelay, heartbeatInterval, name.
   */
  worker(queueName, processor, opts) {
    return worker(this.#native, this.#dispatch, queueName, processor, opts, this.#workers, this.#closed)
  }
}

module.exports = {
  Client,
  Cache,
  RateLimiter,
  Queue,
  Job,
  QueueEvents,
  Worker,
  UnrecoverableError,
  JobFailed: errors.JobFailed,
  RedkitError: errors.RedkitError,
  ConnectionError: errors.ConnectionError,
  TimeoutError: errors.TimeoutError,
  InvalidArgument: errors.InvalidArgument,
  DecodeError: errors.DecodeError,
  EncodeError: errors.EncodeError,
  ScriptError: errors.ScriptError,
  ServerError: errors.ServerError,
  NotFound: errors.NotFound,
  Closed: errors.Closed,
  LockNotAcquired: errors.LockNotAcquired,
  LoaderError: errors.LoaderError,
}
