// Concurrency 1, contender against peer, in pairs of whole processes: one-client.mjs runs
// one, then the other (the order alternating pair by pair), each on a fresh client, with
// the same warm-up; the figure is each pair's ratio of operations per second. Within a
// pair the two runs are a few seconds apart, so the ratio holds while the shared machine's
// speed drifts, which a single interleaved round (cache-hit.mjs, ratelimit.mjs) cannot
// promise at concurrency 1, where one round's ratio moves by up to ±8 %.
//
//   node bench/node/paired.mjs     (starts its own redis-server; needs the release addon)
//   PAIRS=10, N=20000 (operations measured per run), BENCH_OUT=../results/node-paired.md

import { execFileSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { median, startRedis, writeResults } from './harness.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const OUT = process.env.BENCH_OUT ?? path.join(here, '..', 'results', 'node-paired.md')
const PAIRS = Number(process.env.PAIRS ?? 10)
const N = Number(process.env.N ?? 20_000)
const MATCHES = [
  ['redkit-limit', 'rlf-consume', 'rate limit: fixed_window `limit` / rate-limiter-flexible `consume`'],
  ['redkit-get', 'ioredis-get', 'cache hit: `cache.get` / ioredis `get` + `JSON.parse`'],
  ['redkit-get', 'ioredis-get-raw', 'cache hit: `cache.get` / ioredis `get` (raw string)'],
  ['redkit-get-bytes', 'ioredis-get-raw', 'cache hit, no decoding: bytes codec `cache.get` / ioredis `get` (raw string)'],
]

/** Operations per second of one run of `contender`. */
function rate(contender, url) {
  const out = execFileSync(process.execPath, [path.join(here, 'one-client.mjs'), contender, String(N), url], {
    env: { ...process.env, ONE_CLIENT_RATE: '1' },
    encoding: 'utf8',
  })
  return Number(out.trim().split('\n').pop())
}

async function main() {
  const server = await startRedis()
  const rows = []
  try {
    for (const [ours, theirs, label] of MATCHES) {
      const ratios = []
      for (let p = 0; p < PAIRS; p++) {
        // Alternate who goes first, so neither always runs on a warmer server.
        let mine, peer
        if (p % 2 === 0) {
          mine = rate(ours, server.url)
          peer = rate(theirs, server.url)
        } else {
          peer = rate(theirs, server.url)
          mine = rate(ours, server.url)
        }
        ratios.push(mine / peer)
      }
      const won = ratios.filter((r) => r > 1).length
      rows.push({ label, ratios, won })
      console.log(`${label}: ${median(ratios).toFixed(3)}x (${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}), ahead in ${won} of ${ratios.length}`)
    }
  } finally {
    await server.stop()
  }
  const lines = [
    '## Node: concurrency 1 in paired processes',
    '',
    `Each pair runs \`bench/node/one-client.mjs\` for redkit and for the peer, one process after the other (who goes first ` +
      `alternates), each with a fresh client, 3,000 operations of warm-up and ${N.toLocaleString('en-US')} measured; the ratio ` +
      `is redkit's operations per second over the peer's in that pair. ${PAIRS} pairs per row, redis-server on 127.0.0.1 ` +
      `started for the run, Node ${process.version}, ${os.cpus().length} cores, load average at the end ${os.loadavg()[0].toFixed(1)}. ` +
      'Identifiers and values as in ratelimit.mjs and cache-hit.mjs.',
    '',
    '| redkit / peer | median ratio | lowest | highest | pairs redkit was ahead |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) =>
      `| ${r.label} | ${median(r.ratios).toFixed(2)} | ${Math.min(...r.ratios).toFixed(2)} | ${Math.max(...r.ratios).toFixed(2)} | ${r.won} of ${r.ratios.length} |`),
    '',
    `Command: \`node bench/node/paired.mjs\` (PAIRS=${PAIRS}, N=${N}).`,
    '',
  ]
  writeResults(OUT, lines)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
