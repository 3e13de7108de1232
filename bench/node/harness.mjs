// What the Node benchmarks share: a private redis-server on a free loopback port, and a
// bounded measurement loop. 127.0.0.1 only.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 1)
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
export const WARMUP_MS = 300

// A typical cached row, ~300 bytes of JSON: what the cache benchmarks read back.
export const USER = {
  id: 42,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['admin', 'editor'],
  teamId: 7,
  createdAt: '2024-01-01T00:00:00.000Z',
  settings: { theme: 'dark', locale: 'en-GB', notifications: { email: true, push: false } },
  bio: 'First programmer; wrote the first algorithm for the Analytical Engine.',
}

/** Sanity before measuring: every `[name, op]` contender reads USER (as text, bytes or an object). */
export async function readSameUser(contenders) {
  for (const [name, op] of contenders) {
    const v = await op()
    const obj = typeof v === 'string' || Buffer.isBuffer(v) ? JSON.parse(v.toString()) : v
    if (JSON.stringify(obj) !== JSON.stringify(USER)) throw new Error(`${name} read ${JSON.stringify(v)}`)
  }
}

/** Write a results page (markdown lines) to `out`, making its folder. */
export function writeResults(out, lines) {
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, lines.join('\n'))
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`)
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

export async function startRedis() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} }
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redkit-bench-'))
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  })
  const answers = () =>
    new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.write('PING\r\n'))
      sock.once('data', (d) => {
        sock.destroy()
        resolve(String(d).startsWith('+PONG'))
      })
      sock.once('error', () => resolve(false))
    })
  for (let i = 0; i < 400 && !(await answers()); i++) await new Promise((r) => setTimeout(r, 25))
  return { url: `redis://127.0.0.1:${port}`, stop: async () => child.kill('SIGTERM') }
}

/** Run `op` from `concurrency` loops for `SECONDS`; ops/s and latency percentiles (µs). */
export async function measure(op, concurrency) {
  const deadlineWarm = performance.now() + WARMUP_MS
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadlineWarm) await op()
  }))
  const latencies = []
  const start = performance.now()
  const deadline = start + SECONDS * 1000
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (true) {
      const t0 = performance.now()
      if (t0 >= deadline) return
      await op()
      latencies.push(performance.now() - t0)
    }
  }))
  const elapsed = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] * 1000
  return { ops: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), n: latencies.length }
}

