// Concurrency 1, finely interleaved: redkit and ioredis cache hits in one process, each
// contender running blocks of 100 operations, every contender once per turn in a shuffled
// order. A burst of load from elsewhere on the machine lands on every contender alike,
// where rounds of a second (cache-hit.mjs) or paired processes (paired.mjs) move by 5-10 %.
//
// Blocks, not single operations in turn: the first operation after another client's costs
// more (whatever the other one evicted from the caches), and with operations in a fixed
// rotation each contender always followed the same one: that alone put identical
// contenders 10 % apart.
//
//   node interleaved.mjs            starts its own redis-server on a free port
//   REDIS_URL=redis://127.0.0.1:P node interleaved.mjs
//   BENCH_TURNS=600 (measured), BENCH_SEED=42 (of the shuffles), BENCH_OUT=../results/node-interleaved.md
//
// Build the addon in release mode first: (cd bindings-node && npm run build).

import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { cacheHitContenders } from './cache-contenders.mjs'
import { USER, readSameUser, startRedis, writeResults } from './harness.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const OUT = process.env.BENCH_OUT ?? path.join(here, '..', 'results', 'node-interleaved.md')
const TURNS = Number(process.env.BENCH_TURNS ?? 600)
const WARMUP_TURNS = 50
const BLOCK = 100

// A fixed-seed shuffle (mulberry32), so every run visits the orders alike.
const SEED = Number(process.env.BENCH_SEED ?? 42)
let seed = SEED
function random() {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
function shuffle(xs) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[xs[i], xs[j]] = [xs[j], xs[i]]
  }
}

async function main() {
  const server = await startRedis()
  const { ioredis, contenders, close } = await cacheHitContenders(server.url)
  await readSameUser(contenders)

  const samples = contenders.map(() => new Float64Array(TURNS * BLOCK))
  const order = contenders.map((_, i) => i)
  for (let turn = -WARMUP_TURNS; turn < TURNS; turn++) {
    shuffle(order)
    for (const i of order) {
      const op = contenders[i][1]
      for (let k = 0; k < BLOCK; k++) {
        const t0 = performance.now()
        await op()
        if (turn >= 0) samples[i][turn * BLOCK + k] = performance.now() - t0
      }
    }
  }

  const stats = samples.map((s) => {
    const sorted = Float64Array.from(s).sort()
    const at = (p) => sorted[Math.floor((sorted.length - 1) * p)] * 1000
    return { mean: (s.reduce((a, b) => a + b, 0) / s.length) * 1000, p10: at(0.1), p50: at(0.5), p90: at(0.9), p99: at(0.99) }
  })
  const rawMean = stats[0].mean
  const parsedMean = stats[1].mean
  const rows = contenders.map(([name], i) => {
    const s = stats[i]
    const line = `| ${name} | ${s.mean.toFixed(2)} | ${s.p10.toFixed(1)} | ${s.p50.toFixed(1)} | ${s.p90.toFixed(1)} | ${s.p99.toFixed(1)} | ${(rawMean / s.mean).toFixed(3)} | ${(parsedMean / s.mean).toFixed(3)} |`
    console.log(`${name.padEnd(36)} mean ${s.mean.toFixed(2)} µs  p50 ${s.p50.toFixed(1)}  speed against the raw GET ${(rawMean / s.mean).toFixed(3)}x`)
    return line
  })

  const redisVersion = (await ioredis.info('server')).match(/redis_version:(\S+)/)[1]
  const lines = [
    '## Node: concurrency 1, finely interleaved',
    '',
    `Every contender in one process, ${BLOCK} operations in a row each turn, contenders in a shuffled order every turn; ${WARMUP_TURNS} turns of warm-up, ` +
      `${TURNS} measured (${(TURNS * BLOCK).toLocaleString('en-US')} operations per contender); latency of each operation in µs; speed = a peer's mean latency over the row's. ` +
      `One ${JSON.stringify(USER).length}-byte JSON object, read back as an object except in the raw-string and bytes rows. ` +
      `redis-server ${redisVersion} on 127.0.0.1, Node ${process.version}, ${os.cpus().length} cores, load average at the end ${os.loadavg()[0].toFixed(1)}.`,
    '',
    '| client | mean | p10 | p50 | p90 | p99 | speed against the raw GET | against GET + JSON.parse |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Command: \`node bench/node/interleaved.mjs\` (BENCH_TURNS=${TURNS}, BENCH_SEED=${SEED}).`,
    '',
  ]
  writeResults(OUT, lines)

  await close()
  await server.stop()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
