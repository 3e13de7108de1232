'use strict'
// The connection of one client: a Node socket (net or tls) whose bytes the native side
// reads and writes (the core's hosted transport, see src/client.rs). This file only moves
// bytes and reports socket events; what to send, what replies mean, retries, deadlines,
// the offline queue and the backoff between reconnects are decided natively.

const net = require('node:net')
const tls = require('node:tls')

const { ConnectionError, fromNative } = require('./errors.js')

class Link {
  #native
  #functions
  #dispatch
  #address
  #socket = null
  #attempt = 0
  #ticker
  #reconnectTimer = null
  #started = false
  // The first connection's outcome, for a fail-fast `Client.connect`.
  #first = null

  constructor(nativeClient, functions, dispatch, address) {
    this.#native = nativeClient
    this.#functions = functions
    this.#dispatch = dispatch
    this.#address = address
    // How often overdue requests are timed out: the core's tick, the precision of every deadline.
    this.#ticker = setInterval(() => this.#tick(), address.deadlineTickMs)
    this.#ticker.unref()
    // The core's connections of their own (blocking commands, the near caches' push
    // channel) are Node sockets too: one network stack per process.
    if (typeof nativeClient.dialWith === 'function') {
      nativeClient.dialWith((nativeLink) => Link.#dedicated(nativeLink, functions, dispatch))
    }
  }

  // A connection of its own for `nativeLink` (see src/links.rs): the core starts its
  // requests, so its bytes come through `watchOutput`, and it connects at once.
  static #dedicated(nativeLink, functions, dispatch) {
    const own = {
      linkReceived: (chunk) => {
        nativeLink.linkReceived(chunk)
        return functions.takeCompletions()
      },
    }
    const link = new Link(nativeLink, own, dispatch, nativeLink.address())
    nativeLink.watchOutput((bytes) => (bytes === null ? link.end() : link.write(bytes)))
    link.demand()
  }

  /** Connect now; resolves when the connection is ready, rejects if the first attempt fails. */
  start() {
    const first = new Promise((resolve, reject) => {
      this.#first = { resolve, reject }
    })
    this.#started = true
    this.#connect()
    return first
  }

  /**
   * A request is waiting: a lazy client (lazyConnect) connects now, as the Rust and Python
   * clients do on first use; requests wait in the offline queue meanwhile.
   */
  demand() {
    if (this.#started) return
    this.#started = true
    this.#connect()
  }

  /**
   * Write what the native side has to send: bytes as a latin1 string, one char per byte
   * (see src/completion.rs), or a Buffer (a connection of its own). Dropped if the socket
   * is gone: the requests they carry fail over to their retries when the close is reported.
   */
  write(latin1) {
    if (this.#socket !== null) this.#socket.write(latin1, 'latin1')
  }

  /** Stop for good (after the native close). */
  end() {
    clearInterval(this.#ticker)
    clearTimeout(this.#reconnectTimer)
    if (this.#socket !== null) this.#socket.destroy()
  }

  #connect() {
    const a = this.#address
    let socket
    if (a.path != null) {
      socket = net.connect({ path: a.path })
    } else if (a.tls) {
      socket = tls.connect({ host: a.host, port: a.port, servername: net.isIP(a.host) ? undefined : a.host, rejectUnauthorized: !a.insecure })
    } else {
      socket = net.connect({ host: a.host, port: a.port })
    }
    socket.setNoDelay(true)
    // Like the client's timers, the socket never keeps the process alive by itself (the
    // dispatcher holds a ref'd timer while operations are in flight), except while
    // `Client.connect` waits for it.
    if (this.#first === null) socket.unref()
    this.#socket = socket
    let failure = null
    const connectTimer = setTimeout(() => {
      socket.destroy(new Error(`connecting took longer than ${a.connectTimeoutMs} ms`))
    }, a.connectTimeoutMs)
    connectTimer.unref()
    socket.once(a.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer)
      this.#attempt = 0
      this.#native.linkConnected()
      this.#settled()
    })
    socket.on('data', (chunk) => {
      let result
      try {
        result = this.#functions.linkReceived(chunk)
      } catch (err) {
        // As a redkit error: its message is what the close reports, not the native one
        // with its kind marker.
        socket.destroy(fromNative(err))
        this.#dispatch.schedule()
        return
      }
      this.#dispatch.settle(result)
      if (this.#first !== null) this.#settled()
    })
    socket.on('error', (err) => {
      failure = err
    })
    socket.on('close', () => {
      clearTimeout(connectTimer)
      if (this.#socket === socket) this.#socket = null
      // A redkit error's message starts with its kind's label ("connection error: "),
      // which the wording below already says.
      const reason = failure === null ? 'closed by the server' : failure.message.replace(/^connection error: /, '')
      this.#native.linkDisconnected(reason)
      this.#dispatch.schedule()
      if (this.#first !== null) {
        const { reject } = this.#first
        this.#first = null
        const where = a.path != null ? `unix socket ${a.path}` : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`
        reject(new ConnectionError(`cannot connect to ${where}: ${reason}`, { cause: failure ?? undefined }))
        return
      }
      if (this.#native.linkClosed()) return
      const delay = this.#native.reconnectDelay(this.#attempt++)
      this.#reconnectTimer = setTimeout(() => this.#connect(), delay)
      this.#reconnectTimer.unref()
    })
  }

  // After a socket event: tell a waiting `connect` once the handshake is answered, and pump.
  #settled() {
    if (this.#first !== null && this.#native.linkReady()) {
      this.#first.resolve()
      this.#first = null
      this.#socket.unref()
    }
    this.#dispatch.schedule()
  }

  #tick() {
    try {
      this.#native.linkExpire()
    } catch (err) {
      // The handshake is overdue: this connection is no good.
      if (this.#socket !== null) this.#socket.destroy(fromNative(err))
    }
    this.#dispatch.schedule()
  }
}

module.exports = { Link }
