// Job queues: redkit-node's queue and worker beside BullMQ, same server, same run. No-op
// jobs whose data is {i: n}:
//
//   - add: one job per call, one call in flight (BENCH_ADD_JOBS, default 5,000);
//   - addBulk: 1,000 jobs per call (BENCH_JOBS, default 20,000);
//   - a worker at concurrency 1 and 100 draining BENCH_JOBS queued jobs; jobs/s from the
//     moment 5 % are done to the last (start-up left out; a run stops after BENCH_CAP s);
//   - enqueue-to-start latency: a producer adds 1,000 jobs/s for BENCH_LATENCY_SECONDS
//     (default 5) while a worker (concurrency 1, then 100) runs them; p50/p99 of the time
//     from just before the add to the processor's start.
//
// Every cell runs in a process of its own (`--child`), started by this script, which
// meanwhile counts what the server did: commands per job (INFO commandstats, commands run
// inside scripts included, INFO itself left out) and redis-server CPU per job (INFO cpu,
// user + system). Those two do not depend on the machine's load; jobs/s does.
//
//   (cd bindings-node && npm run build) && (cd bench/node && npm install)
//   node bench/node/queue.mjs     (starts its own redis-server; REDIS_URL to use another)
//   BENCH_OUT=../results/node-queue.md

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'

import { Queue as BullQueue, Worker as BullWorker } from 'bullmq'
import Redis from 'ioredis'
import { Client } from 'redkit'

import { startRedis, writeResults } from './harness.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..', '..')
const OUT = process.env.BENCH_OUT ?? path.join(root, 'bench', 'results', 'node-queue.md')
// BENCH_JSON: also write the throughput cells there as JSON ([{ workload, contender, jobsPerSec }]),
// which bench/queue-same-run.sh hands to the Rust bench.
const JSON_OUT = process.env.BENCH_JSON
const QUEUE = 'bench'
const PREFIX = 'qbench'
const BULK = 1000
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000)
const ADD_JOBS = Number(process.env.BENCH_ADD_JOBS ?? 5_000)
const CAP_S = Number(process.env.BENCH_CAP ?? 20)
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,100').split(',').map(Number)
const RATE = 1000
const LATENCY_S = Number(process.env.BENCH_LATENCY_SECONDS ?? 5)
const LATENCY_CONCURRENCY = (process.env.BENCH_LATENCY_CONCURRENCY ?? '1,100').split(',').map(Number)
const WORKLOADS = (process.env.BENCH_WORKLOADS ?? 'add,bulk,worker,latency').split(',')
// The share of jobs done before the clock starts (worker start-up left out).
const START_MARK = 0.05

/** Wall-clock ms with sub-ms precision, comparable between processes of one machine. */
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const hostPort = (url) => {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port) }
}

// ---------------------------------------------------------------------------------------
// The contenders: a producer (add, addBulk, close), a worker, and how many jobs are done.
// ---------------------------------------------------------------------------------------

const contenders = {
  redkit: {
    label: 'redkit-node',
    async producer(url) {
      const client = await Client.connect(url, { prefix: PREFIX })
      const q = client.queue(QUEUE)
      return { add: (name, data) => q.add(name, data), addBulk: (jobs) => q.addBulk(jobs), close: () => client.close() }
    },
    async worker(url, concurrency, processor) {
      const client = await Client.connect(url, { prefix: PREFIX })
      const worker = client.worker(QUEUE, async (job) => processor(job), { concurrency })
      return { close: () => worker.close() }
    },
    async completed(url) {
      const client = await Client.connect(url, { prefix: PREFIX })
      const q = client.queue(QUEUE)
      return { count: async () => (await q.counts()).completed, close: () => client.close() }
    },
  },
  bullmq: {
    label: 'BullMQ',
    async producer(url) {
      const q = new BullQueue(QUEUE, { connection: hostPort(url) })
      await q.waitUntilReady()
      return { add: (name, data) => q.add(name, data), addBulk: (jobs) => q.addBulk(jobs), close: () => q.close() }
    },
    async worker(url, concurrency, processor) {
      const worker = new BullWorker(QUEUE, async (job) => processor(job), { connection: hostPort(url), concurrency })
      await worker.waitUntilReady()
      return { close: () => worker.close() }
    },
    async completed(url) {
      const r = new Redis(url)
      return { count: () => r.zcard(`bull:${QUEUE}:completed`), close: async () => r.disconnect() }
    },
  },
}

// ---------------------------------------------------------------------------------------
// Child side: one contender, one phase; JSON lines out, command lines in.
// ---------------------------------------------------------------------------------------

const say = (msg) => process.stdout.write(JSON.stringify(msg) + '\n')

function commands() {
  const lines = readline.createInterface({ input: process.stdin })
  const waiting = []
  lines.on('line', (l) => waiting.shift()?.(l))
  return () => new Promise((resolve) => waiting.push(resolve))
}

const bulkOf = (start, end) => Array.from({ length: end - start }, (_, k) => ({ name: 'noop', data: { i: start + k } }))

async function child(name, url, phase, n, concurrency) {
  const c = contenders[name]
  const next = commands()
  if (phase === 'work') {
    const latencies = []
    const worker = await c.worker(url, concurrency, (job) => {
      if (job.data.t !== undefined) latencies.push(now() - job.data.t)
      return null
    })
    say({ ready: true })
    await next() // stop
    latencies.sort((a, b) => a - b)
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]
    say({ n: latencies.length, p50: pct(0.5), p99: pct(0.99), max: latencies[latencies.length - 1] })
    await Promise.race([worker.close(), sleep(2000)])
    process.exit(0)
  }
  const p = await c.producer(url)
  if (phase === 'fill') {
    for (let s = 0; s < n; s += BULK) await p.addBulk(bulkOf(s, Math.min(n, s + BULK)))
  } else if (phase === 'pace') {
    // Steady RATE jobs/s: each tick adds the jobs whose time has come, without waiting for
    // earlier adds to return (a web app's handlers do not wait for each other either).
    say({ ready: true })
    await next()
    const t0 = now()
    const pending = []
    let i = 0
    while (i < n) {
      const due = Math.min(n, Math.floor(((now() - t0) * RATE) / 1000) + 1)
      for (; i < due; i++) pending.push(p.add('noop', { i, t: now() }))
      await sleep(1)
    }
    await Promise.all(pending)
    say({ seconds: (now() - t0) / 1000 })
  } else {
    if (phase === 'add') await p.add('warm', { i: 0 })
    else await p.addBulk([{ name: 'warm', data: { i: 0 } }])
    say({ ready: true })
    await next()
    const t0 = now()
    if (phase === 'add') for (let i = 0; i < n; i++) await p.add('noop', { i })
    else for (let s = 0; s < n; s += BULK) await p.addBulk(bulkOf(s, Math.min(n, s + BULK)))
    say({ seconds: (now() - t0) / 1000 })
  }
  await p.close()
  process.exit(0)
}

// ---------------------------------------------------------------------------------------
// Parent side.
// ---------------------------------------------------------------------------------------

class Child {
  constructor(name, url, phase, n, concurrency = 1) {
    const args = [fileURLToPath(import.meta.url), '--child', name, url, phase, String(n), String(concurrency)]
    this.proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], detached: true })
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)))
    const lines = readline.createInterface({ input: this.proc.stdout })
    this.queue = []
    this.waiting = []
    lines.on('line', (l) => {
      if (!l.startsWith('{')) return
      const msg = JSON.parse(l)
      const w = this.waiting.shift()
      if (w) w(msg)
      else this.queue.push(msg)
    })
  }

  read() {
    if (this.queue.length) return Promise.resolve(this.queue.shift())
    return Promise.race([
      new Promise((resolve) => this.waiting.push(resolve)),
      this.exited.then((code) => {
        throw new Error(`child ${this.proc.spawnargs.slice(2).join(' ')} exited (${code})`)
      }),
    ])
  }

  send(line) {
    this.proc.stdin.write(line + '\n')
  }

  async done() {
    const code = await this.exited
    if (code !== 0) throw new Error(`child ${this.proc.spawnargs.slice(2).join(' ')} failed (${code})`)
  }

  kill() {
    try {
      process.kill(-this.proc.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Every command the server ran (INFO itself left out) and its CPU µs (user + system). */
async function serverCost(r) {
  const stats = await r.info('commandstats')
  let calls = 0
  for (const line of stats.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (m && m[1] !== 'info') calls += Number(m[2])
  }
  const cpu = await r.info('cpu')
  const used = (key) => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(cpu)[1])
  return { calls, cpu: (used('used_cpu_user') + used('used_cpu_sys')) * 1e6 }
}

/** CPU µs (user + system) process `pid` has used: /proc/<pid>/stat, in ticks of USER_HZ
 *  (100 on Linux); NaN where there is no /proc. */
function processCpu(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The fields after the command name (which may hold spaces): state first; utime and stime 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return NaN
  }
}

function perJob(before, after, jobs) {
  return { commands: (after.calls - before.calls) / jobs, cpu: (after.cpu - before.cpu) / jobs }
}

async function producerCell(r, url, name, phase) {
  await r.flushall()
  const n = phase === 'add' ? ADD_JOBS : JOBS
  const child = new Child(name, url, phase, n)
  await child.read()
  const before = await serverCost(r)
  child.send('go')
  const { seconds } = await child.read()
  const after = await serverCost(r)
  await child.done()
  const workload = phase === 'add' ? 'add (1 per call, 1 in flight)' : `addBulk (${BULK.toLocaleString('en')} per call)`
  return { name, workload, rate: n / seconds, ...perJob(before, after, n), note: '' }
}

async function workerCell(r, url, name, concurrency) {
  await r.flushall()
  await new Child(name, url, 'fill', JOBS).done()
  const counter = await contenders[name].completed(url)
  const count = counter.count
  const before = await serverCost(r)
  const worker = new Child(name, url, 'work', JOBS, concurrency)
  let done = 0
  let t = 0
  let t0
  let done0
  let after
  let workerCpu
  try {
    await worker.read()
    const cpu0 = processCpu(worker.proc.pid)
    const started = performance.now()
    const mark = Math.max(1, Math.floor(JOBS * START_MARK))
    for (;;) {
      done = await count()
      t = performance.now()
      if (t0 === undefined && done >= mark) [t0, done0] = [t, done]
      if (done >= JOBS || t - (t0 ?? started) > CAP_S * 1000) break
      await sleep(10)
    }
    after = await serverCost(r)
    workerCpu = (processCpu(worker.proc.pid) - cpu0) / Math.max(done, 1)
  } finally {
    worker.kill()
    await counter.close()
  }
  const rate = t0 !== undefined && t > t0 ? ((done - done0) * 1000) / (t - t0) : 0
  const note = done >= JOBS ? '' : `stopped after ${CAP_S} s with ${done} of ${JOBS} done`
  return {
    name,
    workload: `worker, concurrency ${concurrency}`,
    rate,
    ...perJob(before, after, Math.max(done, 1)),
    workerCpu,
    note,
  }
}

async function latencyCell(r, url, name, concurrency) {
  await r.flushall()
  const n = RATE * LATENCY_S
  const counter = await contenders[name].completed(url)
  const worker = new Child(name, url, 'work', n, concurrency)
  try {
    await worker.read()
    const producer = new Child(name, url, 'pace', n)
    await producer.read()
    const before = await serverCost(r)
    producer.send('go')
    const { seconds } = await producer.read()
    await producer.done()
    // A worker that cannot keep up drains its backlog here (its latency says so).
    const deadline = performance.now() + CAP_S * 1000
    while ((await counter.count()) < n && performance.now() < deadline) await sleep(10)
    const after = await serverCost(r)
    worker.send('stop')
    const lat = await worker.read()
    return { name, concurrency, rate: n / seconds, ...lat, ...perJob(before, after, n) }
  } finally {
    worker.kill()
    await counter.close()
  }
}

const version = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ')
const fmt = (x, d = 0) => x.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d })

async function main() {
  const names = (process.env.BENCH_ONLY ?? 'redkit,bullmq').split(',')
  // The redkit worker is new; without it the table carries BullMQ's worker rows alone.
  const hasWorker = typeof Client.prototype.worker === 'function'
  const workers = names.filter((n) => n !== 'redkit' || hasWorker)
  const server = await startRedis()
  const r = new Redis(server.url)
  const redisVersion = /redis_version:(\S+)/.exec(await r.info('server'))[1]
  const startLoad = load()
  const cells = []
  const latencies = []
  try {
    for (const name of names) {
      for (const phase of ['add', 'bulk'].filter((w) => WORKLOADS.includes(w))) {
        const cell = await producerCell(r, server.url, name, phase)
        console.log(`  ${name.padEnd(8)} ${cell.workload.padEnd(32)} ${fmt(cell.rate).padStart(9)}/s`)
        cells.push(cell)
      }
    }
    for (const concurrency of WORKLOADS.includes('worker') ? CONCURRENCY : []) {
      for (const name of workers) {
        const cell = await workerCell(r, server.url, name, concurrency)
        console.log(
          `  ${name.padEnd(8)} ${cell.workload.padEnd(32)} ${fmt(cell.rate).padStart(9)}/s ` +
            `${cell.commands.toFixed(1)} cmds/job ${cell.cpu.toFixed(1)} µs/job ` +
            `worker ${cell.workerCpu.toFixed(1)} µs/job ${cell.note}`,
        )
        cells.push(cell)
      }
    }
    for (const concurrency of WORKLOADS.includes('latency') ? LATENCY_CONCURRENCY : []) {
      for (const name of workers) {
        const cell = await latencyCell(r, server.url, name, concurrency)
        console.log(`  ${name.padEnd(8)} latency c=${concurrency} p50 ${cell.p50.toFixed(2)} ms p99 ${cell.p99.toFixed(2)} ms`)
        latencies.push(cell)
      }
    }
  } finally {
    r.disconnect()
    await server.stop()
  }

  const command = `node bench/node/queue.mjs (BENCH_JOBS=${JOBS})`
  const lines = [
    '## Node: job queues and workers',
    '',
    `\`${command}\``,
    '',
    `Node ${process.version}, redkit-node ${version(path.join(root, 'bindings-node'))}, BullMQ ` +
      `${version(path.join(here, 'node_modules', 'bullmq'))} (ioredis ${version(path.join(here, 'node_modules', 'ioredis'))}); ` +
      `redis-server ${redisVersion} on 127.0.0.1, the same server for both in the same run (flushed between cells), ` +
      `${os.cpus().length} CPUs shared with other work (load average ${startLoad} at the start, ${load()} at the end). ` +
      `No-op jobs, data \`{"i": n}\`, default options on both sides (completed jobs kept). add: ${fmt(ADD_JOBS)} jobs; ` +
      `addBulk: ${fmt(JOBS)} jobs in calls of ${fmt(BULK)}; workers: ${fmt(JOBS)} queued jobs, jobs/s from the moment ` +
      `${START_MARK * 100} % are done to the last (start-up left out; a run stops after ${CAP_S} s). Each cell runs ` +
      'in processes of its own. commands/job: every command the server ran (INFO commandstats, those inside ' +
      'scripts included); cpu µs/job: redis-server user + system CPU (INFO cpu); both over the whole cell; worker ' +
      'cpu µs/job: the worker process\'s user + system CPU from its start-up\'s end to the cell\'s (/proc); none ' +
      'of the three depends on the machine\'s load, as jobs/s does. × BullMQ: jobs/s over BullMQ\'s in the same workload.',
    '',
    '| workload | contender | jobs/s | × BullMQ | commands/job | server cpu µs/job | worker cpu µs/job | note |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ]
  for (const workload of [...new Set(cells.map((c) => c.workload))]) {
    const row = cells.filter((c) => c.workload === workload)
    const base = row.find((c) => c.name === 'bullmq')?.rate
    for (const c of row) {
      const ratio = base ? `${(c.rate / base).toFixed(2)}×` : '—'
      lines.push(
        `| ${workload} | ${contenders[c.name].label} | ${fmt(c.rate)} | ${ratio} | ${c.commands.toFixed(1)} | ` +
          `${c.cpu.toFixed(1)} | ${c.workerCpu === undefined ? '—' : c.workerCpu.toFixed(1)} | ${c.note} |`,
      )
    }
  }
  lines.push(
    '',
    `### Enqueue-to-start latency at a steady ${fmt(RATE)} jobs/s`,
    '',
    `A producer process adds ${fmt(RATE)} jobs per second for ${LATENCY_S} s (each add started on time, not after ` +
      'the one before returned), a worker process runs them; latency: from just before the add to the start of ' +
      'the processor (wall clock, both processes on this machine). commands/job and cpu µs/job over the run, idle ' +
      'waits included.',
    '',
    '| contender | worker concurrency | added/s | jobs started | p50 ms | p99 ms | max ms | commands/job | server cpu µs/job |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  )
  for (const c of latencies) {
    lines.push(
      `| ${contenders[c.name].label} | ${c.concurrency} | ${fmt(c.rate)} | ${fmt(c.n)} | ${c.p50.toFixed(2)} | ${c.p99.toFixed(2)} | ` +
        `${c.max.toFixed(2)} | ${c.commands.toFixed(1)} | ${c.cpu.toFixed(1)} |`,
    )
  }
  if (!hasWorker) {
    lines.push('', 'redkit-node has no worker yet in this build: the worker and latency rows are BullMQ\'s alone.')
  }
  writeResults(OUT, [...lines, ''])
  if (JSON_OUT) {
    const out = cells.map((c) => ({ workload: c.workload, contender: contenders[c.name].label, jobsPerSec: c.rate }))
    fs.writeFileSync(JSON_OUT, JSON.stringify(out, null, 1) + '\n')
  }
}

if (process.argv[2] === '--child') {
  const [name, url, phase, n, concurrency] = process.argv.slice(3)
  await child(name, url, phase, Number(n), Number(concurrency))
} else {
  await main()
}
