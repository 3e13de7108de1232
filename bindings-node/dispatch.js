'use strict'
// The JS half of the completion queue (see src/completion.rs): one per client. Each cache
// operation gets an id and a pending entry; the native side runs it on its own threads and
// wakes us once per batch of finished operations, which we settle here in one pass.

const { fromNative } = require('./errors.js')

const TAG_OK = 0
const TAG_ERR = 1
const TAG_LOAD = 2
const MAX_ID = 0x7fffffff

class Dispatcher {
  #pending = new Map()
  #nextId = 0
  // A timer that is ref'd only while operations are in flight: the native wake-up is weak,
  // so an idle client never keeps the process alive, and a busy one always does.
  #keepAlive = setInterval(() => {}, 0x7fffffff)
  native = null

  constructor() {
    this.#keepAlive.unref()
    this.wake = () => this.#drain()
  }

  /**
   * Start an operation: `start(id)` calls the native method (it may throw at once for bad
   * arguments). `decode` turns the native value into the result; `loader`, for getOrSet,
   * runs on a miss and returns the encoded value.
   */
  submit(start, decode, loader) {
    const id = this.#nextId = this.#nextId >= MAX_ID ? 1 : this.#nextId + 1
    try {
      start(id)
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#keepAlive.ref()
      this.#pending.set(id, { resolve, reject, decode, loader })
    })
  }

  #drain() {
    const flat = this.native.takeCompletions()
    for (let i = 0; i < flat.length; i += 3) {
      const id = flat[i]
      const entry = this.#pending.get(id)
      if (entry === undefined) continue
      const tag = flat[i + 1]
      const value = flat[i + 2]
      if (tag === TAG_LOAD) {
        this.#runLoader(id, entry.loader)
        continue
      }
      this.#pending.delete(id)
      if (tag === TAG_OK) {
        if (entry.decode === null) {
          entry.resolve(value)
        } else {
          try {
            entry.resolve(entry.decode(value))
          } catch (err) {
            entry.reject(err)
          }
        }
      } else if (tag === TAG_ERR) {
        entry.reject(fromNative(value))
      }
    }
    if (this.#pending.size === 0) this.#keepAlive.unref()
  }

  async #runLoader(id, loader) {
    try {
      this.native.loaderResolved(id, await loader())
    } catch (err) {
      // The loader's own error (or its result's encoding error): the operation fails with it.
      this.native.loaderRejected(id, err)
    }
  }
}

module.exports = { Dispatcher }
