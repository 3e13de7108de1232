'use strict'
// Starts a real redis-server for a test file, on a free loopback port, and hands out key
// prefixes no other test uses. The server dies with the test process.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1')
    let data = ''
    sock.setTimeout(500, () => sock.destroy())
    sock.on('connect', () => sock.write('PING\r\n'))
    sock.on('data', (d) => {
      data += d
      if (data.includes('\r\n')) {
        sock.destroy()
        resolve(data.startsWith('+PONG'))
      }
    })
    sock.on('error', () => resolve(false))
    sock.on('close', () => resolve(data.startsWith('+PONG')))
  })
}

/**
 * Start a redis-server (on `onPort`, or a free port; `extraArgs` appended to its command
 * line); resolves to `{ url, port, dir, stop() }`.
 */
async function startServer(onPort, extraArgs = [], dir = null) {
  const bin = process.env.REDKIT_REDIS_SERVER || 'redis-server'
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = onPort ?? (await freePort())
    dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'redkit-node-test-'))
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs]
    const child = spawn(bin, args, { stdio: 'ignore', cwd: dir })
    let exited = false
    child.on('exit', () => {
      exited = true
    })
    const deadline = Date.now() + 10_000
    while (!exited && Date.now() < deadline) {
      if (await ping(port)) {
        // Never keeps the test process alive on its own; killed when the process exits.
        child.unref()
        process.once('exit', () => child.kill('SIGKILL'))
        return {
          port,
          dir,
          url: `redis://127.0.0.1:${port}`,
          stop: () =>
            new Promise((resolve) => {
              if (exited) return resolve()
              // Waiting for the exit must keep the process alive (the child is unref'd).
              child.ref()
              child.once('exit', () => resolve())
              child.kill('SIGTERM')
            }),
        }
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    child.kill('SIGKILL')
  }
  throw new Error('redis-server did not start')
}

/** Send one command on a fresh connection (for tests that poke the server directly). */
function command(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    const payload = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')
    sock.on('connect', () => sock.write(payload))
    sock.once('data', (d) => {
      sock.destroy()
      resolve(String(d))
    })
    sock.on('error', reject)
    // Commands without a reply (SHUTDOWN) settle when the server closes the connection.
    sock.on('close', () => resolve(''))
  })
}

let counter = 0
/** A key prefix that no other test (in any process) uses. */
function prefix(name) {
  counter += 1
  return `t-${name.replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${counter}`
}

/**
 * A server that also speaks TLS, with a self-signed certificate for 127.0.0.1 made by the
 * `openssl` command; resolves to startServer's object plus `tlsPort`.
 */
async function startTlsServer() {
  const { execFileSync } = require('node:child_process')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redkit-node-tls-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' })
  const tlsPort = await freePort()
  const tlsArgs = ['--tls-port', String(tlsPort), '--tls-cert-file', 'cert.pem', '--tls-key-file', 'key.pem', '--tls-ca-cert-file', 'cert.pem', '--tls-auth-clients', 'no']
  const server = await startServer(undefined, tlsArgs, dir)
  return { ...server, tlsPort }
}

/** Run `fn` with a client on `url` under a prefix of its own, closed however `fn` ends. */
async function withClientAt(url, name, fn) {
  const { Client } = require('..')
  const client = await Client.connect(url, { prefix: prefix(name) })
  try {
    await fn(client)
  } finally {
    await client.close()
  }
}

/**
 * The test file's shared server (call at the top level): started before its tests, stopped
 * after them. The object returned carries startServer's fields (`url`, `port`, ...) once the
 * tests run.
 */
function useServer() {
  const { after, before } = require('node:test')
  const server = {}
  before(async () => {
    Object.assign(server, await startServer())
  })
  after(async () => {
    await server.stop?.()
  })
  return server
}

module.exports = { startServer, startTlsServer, freePort, prefix, command, withClientAt, useServer }
