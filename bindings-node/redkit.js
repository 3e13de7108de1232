'use strict'
// The public face of the npm package: `Client`, `Cache` and `RateLimiter` over the native
// classes.
// This file only converts: it encodes values (JSON text by default, Buffers with the
// bytes codec) and turns native failures into the error classes of errors.js. Every
// cache semantic (ttl, tags, stampede protection) lives in the Rust core.

const native = require('./index.js')
const errors = require('./errors.js')
const { Dispatcher } = require('./dispatch.js')
const { Link } = require('./link.js')
const { wrap } = require('./wrap.js')
const { RateLimiter, rateLimiter } = require('./ratelimit.js')
const { Job, Queue, queue } = require('./queue.js')
const { UnrecoverableError, Worker, worker } = require('./worker.js')

const { DecodeError, InvalidArgument, fromNative, loaderFailure } = errors

// Guards the constructors: clients come from `Client.connect`, caches from `client.cache`.
const INTERNAL = Symbol('redkit.internal')

function encodeJson(value) {
  let text
  try {
    text = JSON.stringify(value)
  } catch (err) {
    throw new DecodeError(`value cannot be encoded as JSON: ${err.message}`, { cause: err })
  }
  if (text === undefined) throw new DecodeError(`value cannot be encoded as JSON: ${typeof value}`)
  return text
}

function decodeJson(text) {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new DecodeError(`cached value is not valid JSON: ${err.message}`, { cause: err })
  }
}

function encodeBytes(value) {
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw new InvalidArgument('the bytes codec stores Buffers (or Uint8Arrays) only')
}

/**
 * A value of the bytes codecs as a Buffer: small ones cross from the addon as latin1 text
 * (one char per byte, see POOLED_BYTES in src/completion.rs), copied here into a Buffer from
 * Node's pool, which costs less than a Buffer the addon makes.
 */
const toBuffer = (v) => (typeof v === 'string' ? Buffer.from(v, 'latin1') : v)
const toBufferOrNull = (v) => (v === null ? null : toBuffer(v))

// MessagePack, like Python's codec, through an optional package: loaded on first use, so
// applications that never ask for it do not need it.
let msgpack = null
function loadMsgpack() {
  if (msgpack === null) {
    try {
      msgpack = require('@msgpack/msgpack')
    } catch (err) {
      throw new InvalidArgument("codec 'msgpack' needs the @msgpack/msgpack package: npm install @msgpack/msgpack", { cause: err })
    }
  }
  return msgpack
}

function encodeMsgpack(value) {
  try {
    const bytes = msgpack.encode(value)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  } catch (err) {
    throw new DecodeError(`value cannot be encoded as MessagePack: ${err.message}`, { cause: err })
  }
}

function decodeMsgpack(buf) {
  try {
    return msgpack.decode(buf)
  } catch (err) {
    throw new DecodeError(`cached value is not valid MessagePack: ${err.message}`, { cause: err })
  }
}

// How each codec crosses the boundary: which native methods, and the JS-side encoding.
const CODECS = {
  json: {
    get: 'getText',
    set: 'setText',
    getOrSet: 'getOrSetText',
    encode: encodeJson,
    decode: decodeJson,
    decodeOrNull: (text) => (text === null ? null : decodeJson(text)),
  },
  bytes: {
    get: 'getBytes',
    set: 'setBytes',
    getOrSet: 'getOrSetBytes',
    encode: encodeBytes,
    decode: toBuffer,
    decodeOrNull: toBufferOrNull,
  },
  // Stored as bytes; the same encoding Rust (rmp-serde, maps with string keys) and Python
  // (the msgpack package) write, so each reads what the others stored.
  msgpack: {
    get: 'getBytes',
    set: 'setBytes',
    getOrSet: 'getOrSetBytes',
    encode: encodeMsgpack,
    decode: (v) => decodeMsgpack(toBuffer(v)),
    decodeOrNull: (v) => (v === null ? null : decodeMsgpack(toBuffer(v))),
    load: loadMsgpack,
  },
}

/** One cache namespace; from `client.cache(namespace, opts)`. */
class Cache {
  #native
  #codec
  #dispatch

  constructor(token, nativeCache, codec, dispatch) {
    if (token !== INTERNAL) throw new InvalidArgument('use client.cache(namespace, opts) to make a cache')
    // The operations as plain functions: a cheaper call than a native method.
    this.#native = nativeCache.functions()
    this.#codec = codec
    this.#dispatch = dispatch
  }

  /** The fresh value under `key`, or `null`. One GET. */
  get(key) {
    const { get, decodeOrNull } = this.#codec
    return this.#dispatch.submit((op) => this.#native[get](op, key), decodeOrNull, null)
  }

  /** Write-through: store `value` (with the namespace ttl, or `opts.ttl`) under `opts.tags`. */
  set(key, value, opts) {
    let raw
    try {
      raw = this.#codec.encode(value)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#dispatch.submit((op) => this.#native[this.#codec.set](op, key, raw, opts), null, null)
  }

  /** Delete entries: `delete('a', 'b')`; resolves to how many existed. */
  delete(...keys) {
    if (keys.length === 1 && Array.isArray(keys[0])) {
      return Promise.reject(new InvalidArgument('delete takes keys as separate arguments: delete(...keys)'))
    }
    return this.#dispatch.submit((op) => this.#native.delete(op, keys), null, null)
  }

  /** Every entry carrying any of `tags` reads as a miss from now on; resolves to how many were deleted. */
  invalidateTags(tags) {
    return this.#dispatch.submit((op) => this.#native.invalidateTags(op, tags), null, null)
  }

  /**
   * Cache-aside: the fresh value, or `await loader()` stored and returned. One loader runs
   * per key at a time (in this process, and across processes with the lock option). A
   * loader that throws stores nothing and its error reaches the caller as thrown.
   */
  getOrSet(key, loader, opts) {
    if (typeof loader !== 'function') return Promise.reject(new InvalidArgument('loader must be a function'))
    const { encode, decode, getOrSet } = this.#codec
    // The host function the core calls on a miss (src/host.rs); the key and the signal are
    // not the loader's business.
    const load = async () => {
      let value
      try {
        value = await loader()
      } catch (err) {
        throw loaderFailure(err)
      }
      try {
        return encode(value)
      } catch (err) {
        throw loaderFailure(err)
      }
    }
    const within = this.#dispatch.loaderOf()
    return this.#dispatch.submit((op) => this.#native[getOrSet](op, key, opts, within), decode, load)
  }

  /** Memoize `fn` through `getOrSet` (see wrap.js for the key options). */
  wrap(fn, opts) {
    return wrap(this, fn, opts)
  }
}

/** A connection to Redis (one multiplexed connection, shared) and the door to the patterns. */
class Client {
  #native
  #dispatch
  #link
  // Workers made by this client and not closed yet: `close()` closes them first.
  #workers = new Set()
  #closed = false

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
    let nativeClient
    try {
      nativeClient = native.NativeClient.open(url, opts, dispatch.wake)
    } catch (err) {
      throw fromNative(err)
    }
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
    let nativeCache
    try {
      // The core reads (and checks) every option, the codec's name included.
      nativeCache = this.#native.cache(namespace, opts)
    } catch (err) {
      throw fromNative(err)
    }
    const codec = CODECS[opts?.codec ?? 'json']
    if (codec.load !== undefined) codec.load()
    return new Cache(INTERNAL, nativeCache, codec, this.#dispatch)
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
  Worker,
  UnrecoverableError,
  JobFailed: errors.JobFailed,
  RedkitError: errors.RedkitError,
  ConnectionError: errors.ConnectionError,
  TimeoutError: errors.TimeoutError,
  InvalidArgument: errors.InvalidArgument,
  DecodeError: errors.DecodeError,
  ScriptError: errors.ScriptError,
  ServerError: errors.ServerError,
  NotFound: errors.NotFound,
  Closed: errors.Closed,
  LockNotAcquired: errors.LockNotAcquired,
  LoaderError: errors.LoaderError,
}
