// Cache-hit throughput and p99 latency at concurrency 1 and 64: redkit beside ioredis's
// plain GET (the seed's `redis.get` + `JSON.parse`) and bentocache (Redis driver only, no
// in-memory layer, so every hit is a Redis round trip like the others). Then the two-tier
// forms, where a hit is served from process memory: redkit's near cache beside bentocache
// with its memory L1 and Redis bus. Same server, same run, bounded in time; 127.0.0.1 only.
//
//   node cache-hit.mjs                 starts its own redis-server on a free port
//   REDIS_URL=redis://127.0.0.1:P node cache-hit.mjs
//   BENCH_SECONDS=1 (per case and round), BENCH_ROUNDS=5, BENCH_OUT=../results/node-cache.md
//
// Each round measures every contender once, in a rotated order; the table reports the
// median over the rounds, so a burst of load from elsewhere on the machine skews one
// round of one contender, not the result.
//
// Build the addon in release mode first: (cd bindings-node && npm run build).

import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { BYTES, PARSED_GET, RAW_GET, cacheHitContenders, loaderMustNotRun } from './cache-contenders.mjs'
import { ROUNDS, SECONDS, USER, WARMUP_MS, measure, median, readSameUser, startRedis, writeResults } from './harness.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const OUT = process.env.BENCH_OUT ?? path.join(here, '..', 'results', 'node-cache.md')
const CONCURRENCY = [1, 64]
const NEAR = 'redkit `cache.get` (`nearCache`: served from process memory)'
const BENTO_TIERED = 'bentocache `get` (memory L1 + Redis L2 + bus)'

async function main() {
  const server = await startRedis()
  const { ioredis, rk, connection, contenders: common, close } = await cacheHitContenders(server.url)
  // An in-process copy kept coherent by Redis key tracking.
  const near = rk.cache('near', { ttl: 3_600_000, nearCache: 10_000 })
  const bento = new BentoCache({
    default: 'redis',
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection })) },
  })
  // bentocache's own two tiers: memory L1, Redis L2, and its Redis bus for invalidations.
  const bentoTiered = new BentoCache({
    default: 'tiered',
    prefix: 'tiered',
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  })

  // Seed the entries the peers read.
  await near.set('user:42', USER)
  await bento.set({ key: 'user:42', value: USER, ttl: '1h' })
  await bentoTiered.set({ key: 'user:42', value: USER, ttl: '1h' })

  const contenders = [
    ...common,
    ['bentocache `get` (Redis L2 only)', () => bento.get({ key: 'user:42' })],
    ['bentocache `getOrSet` (hit, Redis L2 only)', () => bento.getOrSet({ key: 'user:42', factory: loaderMustNotRun, ttl: '1h' })],
    [NEAR, () => near.get('user:42')],
    ['redkit `cache.getOrSet` (hit, `nearCache`)', () => near.getOrSet('user:42', loaderMustNotRun)],
    [BENTO_TIERED, () => bentoTiered.get({ key: 'user:42' })],
  ]
  await readSameUser(contenders)
  await nearServesFromMemory(ioredis, () => near.get('user:42'))

  const rows = []
  for (const concurrency of CONCURRENCY) {
    const runs = contenders.map(() => [])
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < contenders.length; k++) {
        const i = (k + round) % contenders.length
        runs[i].push(await measure(contenders[i][1], concurrency))
      }
    }
    for (const [i, [name]] of contenders.entries()) {
      const r = {
        ops: median(runs[i].map((x) => x.ops)),
        p50: median(runs[i].map((x) => x.p50)),
        p99: median(runs[i].map((x) => x.p99)),
        rounds: runs[i].map((x) => x.ops),
      }
      rows.push({ name, concurrency, ...r })
      console.log(`${name.padEnd(46)} c=${String(concurrency).padStart(2)}  ${Math.round(r.ops).toString().padStart(7)} ops/s  p50 ${r.p50.toFixed(0).padStart(5)} µs  p99 ${r.p99.toFixed(0).padStart(5)} µs`)
    }
  }

  const redisVersion = (await ioredis.info('server')).match(/redis_version:(\S+)/)[1]
  const lines = [
    '## Node: cache hit',
    '',
    `One ${JSON.stringify(USER).length}-byte JSON object read back as an object (except the raw-string row); ` +
      `redis-server ${redisVersion} on 127.0.0.1, same server and same run for every row; median of ${ROUNDS} rounds of ${SECONDS} s ` +
      `(each after ${WARMUP_MS} ms of warm-up; contenders interleaved, order rotated each round). Load average at the end: ${os.loadavg()[0].toFixed(1)}. ` +
      `Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0].model.trim()}). ` +
      'Concurrency 64 = 64 promises in flight on one client. The first bentocache rows run with its Redis driver only (no in-memory L1), ' +
      'so each of their hits is a Redis round trip like the others. The `nearCache` rows and the last bentocache row keep a copy in ' +
      'process memory (redkit: kept coherent by Redis key tracking; bentocache: by its bus), so their hits make no round trip. ' +
      'redkit built with `npm run build` (release).',
    '',
    '| client | concurrency | ops/s | p50 (µs) | p99 (µs) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.concurrency} | ${Math.round(r.ops).toLocaleString('en-US')} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} |`),
    '',
    `Command: \`node bench/node/cache-hit.mjs\` (BENCH_SECONDS=${SECONDS}, BENCH_ROUNDS=${ROUNDS}).`,
    '',
    'redkit against ioredis round by round (each round runs every contender back to back, so the ratio of one round is ' +
      'steadier on a shared machine than the ratio of the medians): median, then the lowest and highest round.',
    '',
    ...ratioLines(rows),
    '',
    'How redkit-node does it (see bindings-node/README.md):',
    '',
    '- The connection is a Node socket; the Rust core is its other half (the hosted transport:',
    '  RESP, handshake, retries, deadlines, offline queue), and operations run on the JS thread.',
    '  A hit wakes no thread but the JS one, when the reply arrives, as with ioredis. Before this',
    '  (a tokio worker owning the socket) every call crossed three threads and a hit was 0.64x',
    '  ioredis at concurrency 1.',
    '- Concurrency 64: operations started in one JS job leave in writes of 16 (early enough for',
    '  Redis to start on them while JS starts the rest), and every reply one `data` event delivers',
    '  is settled in one pass, so redkit makes fewer syscalls than ioredis (one write per command)',
    '  and parses RESP in Rust.',
    '- Per-call cost: the calls made for each operation are plain functions (about 25 ns a call)',
    "  rather than napi-rs class methods (about 300 ns: napi-rs registers every `&self` borrow in a",
    '  process-wide table); a lone hit makes two such calls (its start, which also hands back what to',
    '  write, and the one fed the reply). Measured with a loop of 2 million calls.',
    '- JSON crosses the boundary as text and is parsed by V8 (`JSON.parse`): measured at 1.3 µs for',
    '  this object against 4.8 µs for serde_json in Rust building the JS object through napi calls',
    '  (88 µs against 526 µs for a 25 KB object).',
    '- What a native call hands back: the ids and tags of the finished operations are written into',
    '  a Uint32Array the addon shares with JS, and only their values cross as JS values (a lone one',
    '  by itself, no array). A JS array built from native code cost about 600 instructions per',
    '  element: a hit went from 39,978 instructions in the node process to 30,000-32,800, about',
    '  what ioredis GET + JSON.parse costs (node-instructions.md, which gives the spread).',
    '- Operations in flight are kept in an array indexed by ids that are reused, not in a Map: a',
    '  busy Map rehashes into new tables that its old ones keep alive (for iterators), and those',
    '  survived every young-generation GC. At concurrency 64 each scavenge copied 1.5 MB and paused',
    '  2.3 ms (ioredis: 60 KB, 0.3 ms), every 20 ms: that was the p99 (3.7 ms against ioredis 1.0',
    '  ms). Measured with `node --trace-gc-nvp` (new_space_survived, pause).',
    '- CPU per hit at concurrency 1: `node bench/node/cpu-per-op.mjs` (whole node process), and',
    '  instructions per hit: `bash bench/node/instructions-per-op.sh`.',
    '',
  ]
  writeResults(OUT, lines)

  await bento.disconnectAll()
  await bentoTiered.disconnectAll()
  await close()
  await server.stop()
}

/** Fail unless `read` (a near-cache hit) has stopped reaching Redis: its tracking is confirmed
 * within milliseconds of the cache's creation, and a row measuring round trips would lie. */
async function nearServesFromMemory(ioredis, read) {
  const gets = async () => Number((await ioredis.info('commandstats')).match(/cmdstat_get:calls=(\d+)/)?.[1] ?? 0)
  const deadline = Date.now() + 5000
  for (;;) {
    const before = await gets()
    for (let i = 0; i < 100; i++) await read()
    if ((await gets()) === before) return
    if (Date.now() > deadline) throw new Error('nearCache hits still reach Redis')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** `- redkit X against ioredis Y, concurrency c: ...` for the pairs the goal is about. */
function ratioLines(rows) {
  const pairs = [
    ['redkit `cache.get`', RAW_GET],
    ['redkit `cache.get`', PARSED_GET],
    [BYTES, RAW_GET],
    [NEAR, RAW_GET],
    [NEAR, BENTO_TIERED],
  ]
  return CONCURRENCY.flatMap((concurrency) =>
    pairs.map(([ours, theirs]) => {
      const a = rows.find((r) => r.name === ours && r.concurrency === concurrency)
      const b = rows.find((r) => r.name === theirs && r.concurrency === concurrency)
      const ratios = a.rounds.map((x, k) => x / b.rounds[k])
      return `- ${ours} against ${theirs}, concurrency ${concurrency}: ${median(ratios).toFixed(2)}x ` +
        `(${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x)`
    }),
  )
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
