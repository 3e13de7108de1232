'use strict'
// `queue.events(fromId)`: a queue's events stream (docs/WIRE.md, "Events"), written by every
// process and runtime that uses the queue, as an async iterator and an EventEmitter. One
// native reader (src/events.rs: XREAD BLOCK on a connection of its own) feeds both. It reads
// only while a listener is attached or an iterator waits, so an idle QueueEvents costs
// nothing; `close()` ends a read in flight at once and keeps nothing alive.

const { EventEmitter } = require('node:events')

// After a failed read (the server gone, a closed client), the next one waits this long.
const RETRY_MS = 1000

/** An event as stored: `{ id, event, jobId, fields }`. */
class QueueEvents extends EventEmitter {
  #ops
  #native
  #dispatch
  #closed = false
  #reading = null
  // Each iterator's undelivered events and the resolver of its pending `next()`.
  #iterators = new Set()

  /** @internal made by `queue.events()`. */
  constructor(native, dispatch) {
    super()
    this.#native = native
    this.#ops = native.functions()
    this.#dispatch = dispatch
    // `"$"` means "from now on": pin the position now, not at the first read. A failure
    // here is the first read's failure too, which reports it.
    dispatch.submit((op) => this.#ops.pin(op), null, null).catch(() => {})
    this.on('newListener', (name) => {
      if (name !== 'error') queueMicrotask(() => this.#pump())
    })
  }

  /** Stop reading: a pending `next()` of every iterator resolves as done. */
  async close() {
    if (this.#closed) return
    this.#closed = true
    this.#native.close()
    for (const it of this.#iterators) it.resolve?.({ value: undefined, done: true })
    this.#iterators.clear()
    await this.#reading
  }

  /** Yields each event, oldest first, until `close()` (or `break`). */
  [Symbol.asyncIterator]() {
    const it = { queue: [], resolve: null, reject: null }
    const done = () => {
      this.#iterators.delete(it)
      return Promise.resolve({ value: undefined, done: true })
    }
    if (!this.#closed) this.#iterators.add(it)
    return {
      next: () => {
        if (it.queue.length > 0) return Promise.resolve({ value: it.queue.shift(), done: false })
        if (this.#closed || !this.#iterators.has(it)) return done()
        const p = new Promise((resolve, reject) => Object.assign(it, { resolve, reject }))
        this.#pump()
        return p
      },
      return: done,
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }

  // Listeners of events (not of 'error' alone), or an iterator waiting for its next event.
  #wanted() {
    if (this.#closed) return false
    for (const it of this.#iterators) if (it.resolve) return true
    return this.eventNames().some((n) => n !== 'error' && n !== 'newListener' && n !== 'removeListener')
  }

  #pump() {
    if (this.#reading === null && this.#wanted()) {
      this.#reading = this.#read().finally(() => {
        this.#reading = null
        // A listener added or an iterator waiting while the last read settled.
        if (this.#wanted()) this.#pump()
      })
    }
  }

  async #read() {
    while (this.#wanted()) {
      let text
      try {
        text = await this.#dispatch.submit((op) => this.#ops.next(op), null, null)
      } catch (err) {
        this.#failed(err)
        await new Promise((r) => setTimeout(r, RETRY_MS).unref())
        continue
      }
      if (text === null) return
      for (const event of JSON.parse(text)) this.#deliver(event)
    }
  }

  #deliver(event) {
    for (const it of this.#iterators) {
      if (it.resolve) {
        const resolve = it.resolve
        it.resolve = it.reject = null
        resolve({ value: event, done: false })
      } else {
        it.queue.push(event)
      }
    }
    this.emit(event.event, event)
  }

  // A waiting iterator's `next()` rejects (the next call reads again); an 'error' listener,
  // if any, is told. Without one the error is not thrown: an emitter's read retries.
  #failed(err) {
    for (const it of this.#iterators) {
      if (it.reject) {
        const reject = it.reject
        it.resolve = it.reject = null
        reject(err)
      }
    }
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }
}

module.exports = { QueueEvents }
