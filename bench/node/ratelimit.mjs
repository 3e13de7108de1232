// Rate limit decisions: throughput and latency at concurrency 1 and 64, Redis commands per
// decision, and bytes per identifier in Redis, for redkit beside rate-limiter-flexible
// (RateLimiterRedis over ioredis) and @upstash/ratelimit (@upstash/redis through
// redkit-gateway, the Upstash REST protocol in front of the same redis-server). Same server,
// same run, rounds interleaved; 127.0.0.1 only, bounded in time.
//
//   cargo build --release -p redkit-gateway && (cd bindings-node && npm run build)
//   node bench/node/ratelimit.mjs     (starts its own redis-server and gateway)
//   BENCH_SECONDS=1 (per case and round), BENCH_ROUNDS=5, BENCH_OUT=../results/node-ratelimit.md

import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { Ratelimit } from '@upstash/ratelimit'
import { Redis as Upstash } from '@upstash/redis'
import Redis from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { Client } from 'redkit'

import { ROUNDS, SECONDS, WARMUP_MS, freePort, measure, median, startRedis, writeResults } from './harness.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..', '..')
const OUT = process.env.BENCH_OUT ?? path.join(root, 'bench', 'results', 'node-ratelimit.md')
const CONCURRENCY = [1, 64]
// Throughput: 100 per second per identifier over 10,000 identifiers, so nearly every
// decision is an admission (each identifier sees a few requests per second).
const IDENTIFIERS = 10_000
const LIMIT = 100
// Memory: one identifier after this many requests, limit LIMIT per minute.
const MEMORY_REQUESTS = [1, 10, 100]

/** Start redkit-gateway (release build) in front of `redisUrl`; `{ url, token, stop }`. */
async function startGateway(redisUrl) {
  // Where cargo put it: CARGO_TARGET_DIR (scripts/lib.sh sets one) or the workspace's target/.
  const bin = path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, 'target'), 'release', 'redkit-gateway')
  if (!fs.existsSync(bin)) throw new Error(`${bin} missing: cargo build --release -p redkit-gateway`)
  const port = await freePort()
  const token = crypto.randomBytes(16).toString('hex')
  const child = spawn(bin, [], {
    stdio: 'ignore',
    env: { ...process.env, REDKIT_GATEWAY_TOKEN: token, REDKIT_GATEWAY_REDIS_URL: redisUrl, REDKIT_GATEWAY_LISTEN: `127.0.0.1:${port}` },
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 400; i++) {
    try {
      const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '["PING"]' })
      if (r.ok) return { url, token, stop: async () => child.kill('SIGTERM') }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  child.kill('SIGKILL')
  throw new Error('redkit-gateway did not start')
}

/**
 * Every contender: `make(prefix, { limit, windowMs })` builds a limiter and returns
 * `decide(identifier) -> Promise<boolean>` (allowed?). `keys(prefix)` is the SCAN pattern
 * of the keys it creates per identifier (default `<prefix>:*`).
 */
function contenders({ rk, ioredis, upstash }) {
  const redkit = (algorithm) => ({
    peer: 'redkit-node',
    algorithm,
    // Not `<prefix>:layout`, the one key per deployment every redkit client records.
    keys: (prefix) => `${prefix}:{rl:api}:*`,
    make: async (prefix, { limit, windowMs }) => {
      const client = await rk(prefix)
      const l = client.rateLimiter('api', { algorithm, limit, window: windowMs })
      return async (id) => (await l.limit(id)).allowed
    },
  })
  const upstashWith = (algorithm, limiter) => ({
    peer: '@upstash/ratelimit (gateway)',
    algorithm,
    make: async (prefix, { limit, windowMs }) => {
      // No ephemeral (in-process) cache, no analytics: every decision asks Redis, as
      // redkit's does without localBlock.
      const rl = new Ratelimit({ redis: upstash, limiter: limiter(limit, `${windowMs} ms`), prefix, ephemeralCache: false, analytics: false })
      return async (id) => (await rl.limit(id)).success
    },
  })
  return [
    redkit('gcra'),
    redkit('token_bucket'),
    redkit('fixed_window'),
    redkit('sliding_window'),
    redkit('sliding_log'),
    {
      peer: 'rate-limiter-flexible RateLimiterRedis',
      algorithm: 'fixed_window',
      make: async (prefix, { limit, windowMs }) => {
        const rl = new RateLimiterRedis({ storeClient: ioredis, keyPrefix: prefix, points: limit, duration: windowMs / 1000 })
        return (id) => rl.consume(id).then(
          () => true,
          (res) => {
            if (res instanceof Error) throw res
            return false
          },
        )
      },
    },
    {
      // Not a peer: redkit's own gcra script driven by ioredis, to split redkit-node's time
      // between the script (same as here) and the binding (absent here).
      peer: 'reference: ioredis + redkit gcra script',
      algorithm: 'gcra',
      make: async (prefix, { limit, windowMs }) => {
        // Assembled as core/src/ratelimit/scripts.rs does for one rule.
        const read = (f) => fs.readFileSync(path.join(root, 'core', 'lua', f), 'utf8')
        const lua = read('rl_common.lua') + read('rl_one_rule.lua').replace('-- ALGORITHM\n', () => read('rl_gcra.lua'))
        ioredis.defineCommand('redkitGcra', { numberOfKeys: 1, lua })
        return async (id) => {
          // An admission is one odd integer, anything else the five-field table (rl_common.lua).
          const reply = await ioredis.redkitGcra(`${prefix}:{rl:api}:g:${id}`, 1, limit, windowMs * 1000, 0)
          return typeof reply === 'number' ? reply % 2 === 1 : reply[0] === 1
        }
      },
    },
    upstashWith('fixed_window', (l, w) => Ratelimit.fixedWindow(l, w)),
    upstashWith('sliding_window', (l, w) => Ratelimit.slidingWindow(l, w)),
    upstashWith('token_bucket', (l, w) => Ratelimit.tokenBucket(l, w, l)),
  ]
}

/** Counts the commands clients send to Redis (MONITOR), leaving out those run inside scripts. */
async function monitor(port) {
  const sock = net.connect(port, '127.0.0.1')
  await new Promise((r) => sock.once('connect', r))
  sock.write('MONITOR\r\n')
  let buffered = ''
  const lines = []
  sock.on('data', (d) => {
    buffered += d
    const parts = buffered.split('\r\n')
    buffered = parts.pop()
    lines.push(...parts)
  })
  await new Promise((r) => setTimeout(r, 50))
  return {
    /** Client commands seen since the last call, by name. */
    take: async () => {
      await new Promise((r) => setTimeout(r, 100))
      const seen = lines.splice(0).filter((l) => l.startsWith('+') && !l.includes('[0 lua]') && l !== '+OK')
      const names = {}
      for (const l of seen) {
        const name = /\] "([^"]+)"/.exec(l)?.[1]?.toLowerCase() ?? '?'
        names[name] = (names[name] ?? 0) + 1
      }
      return { count: seen.length, names }
    },
    stop: () => sock.destroy(),
  }
}

// Servers this run started, stopped on failure too.
const started = []

async function main() {
  const server = await startRedis()
  started.push(server)
  const gateway = await startGateway(server.url)
  started.push(gateway)
  const { port, hostname } = new URL(server.url)
  const ioredis = new Redis({ host: hostname, port: Number(port) })
  const clients = []
  const rk = async (prefix) => {
    const c = await Client.connect(server.url, { prefix })
    clients.push(c)
    return c
  }
  const upstash = new Upstash({ url: gateway.url, token: gateway.token, enableTelemetry: false })
  const all = contenders({ rk, ioredis, upstash })
  const name = (c) => `${c.peer} · ${c.algorithm}`

  // 1. Throughput and latency, interleaved rounds, order rotated each round.
  const limiters = []
  for (const [i, c] of all.entries()) {
    const decide = await c.make(`tp${i}`, { limit: LIMIT, windowMs: 1000 })
    let n = 0
    limiters.push(() => decide(`user:${(n++ % IDENTIFIERS).toString().padStart(5, '0')}`))
  }
  const rows = []
  for (const concurrency of CONCURRENCY) {
    const runs = all.map(() => [])
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < all.length; k++) {
        const i = (k + round) % all.length
        runs[i].push(await measure(limiters[i], concurrency))
      }
    }
    for (const [i, c] of all.entries()) {
      const r = {
        ops: median(runs[i].map((x) => x.ops)),
        p50: median(runs[i].map((x) => x.p50)),
        p99: median(runs[i].map((x) => x.p99)),
        rounds: runs[i].map((x) => x.ops),
      }
      rows.push({ c, concurrency, ...r })
      console.log(`${name(c).padEnd(60)} c=${String(concurrency).padStart(2)} ${Math.round(r.ops).toString().padStart(7)}/s  p50 ${r.p50.toFixed(0).padStart(5)} µs  p99 ${r.p99.toFixed(0).padStart(5)} µs`)
    }
  }

  // 2. Redis commands per decision (MONITOR; commands inside scripts left out), on fresh
  //    identifiers after a warm-up that loads the scripts.
  const mon = await monitor(Number(port))
  const trips = []
  for (const [i, c] of all.entries()) {
    const decide = await c.make(`rt${i}`, { limit: LIMIT, windowMs: 60_000 })
    for (let k = 0; k < 3; k++) await decide('warm')
    await mon.take()
    const N = 100
    for (let k = 0; k < N; k++) await decide(`id:${k % 10}`)
    const { count, names } = await mon.take()
    trips.push({ c, perDecision: count / N, names })
  }
  mon.stop()
  // 3. Time Redis spends per decision (INFO commandstats usec of the scripts, MONITOR
  //    detached), sequential decisions over 100 identifiers.
  for (const [i, c] of all.entries()) {
    const decide = await c.make(`us${i}`, { limit: LIMIT, windowMs: 60_000 })
    for (let k = 0; k < 3; k++) await decide('warm')
    await ioredis.config('RESETSTAT')
    const N = 2000
    for (let k = 0; k < N; k++) await decide(`id:${k % 100}`)
    const stats = await ioredis.info('commandstats')
    const usec = [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0)
    trips[i].serverUs = usec / N
    console.log(`${name(c).padEnd(60)} ${trips[i].perDecision.toFixed(2)} commands/decision ${JSON.stringify(trips[i].names)}, ${(usec / N).toFixed(1)} µs in Redis`)
  }

  // 4. Bytes per identifier: MEMORY USAGE of every key the contender created for one
  //    identifier (SCAN of its own prefix) after n requests, limit LIMIT per minute. Key
  //    names count in MEMORY USAGE and each library adds its own parts to the prefix, so
  //    the prefixes are padded until every peer's key name has the same length: what is
  //    left is the state each algorithm keeps. The unpadded figure is reported too.
  const bytesFor = async (c, prefix, n, spanning = false) => {
    const decide = await c.make(prefix, { limit: LIMIT, windowMs: spanning ? 1000 : 60_000 })
    for (let k = 0; k < n; k++) {
      // Spanning: half the requests before a window boundary (windows are aligned on the
      // Unix epoch for every peer), half just after, so two-window state is all there.
      if (spanning && k === n / 2) await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20))
      await decide('user:001:010')
    }
    const keys = []
    let cursor = '0'
    do {
      const [next, batch] = await ioredis.scan(cursor, 'MATCH', c.keys ? c.keys(prefix) : `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      keys.push(...batch)
    } while (cursor !== '0')
    let total = 0
    for (const k of keys) total += Number(await ioredis.memory('USAGE', k, 'SAMPLES', '0'))
    return { n, keys: keys.length, total, nameLen: Math.max(...keys.map((k) => k.length)) }
  }
  const shipped = []
  for (const [i, c] of all.entries()) shipped.push(await bytesFor(c, `m${i}a`, 1))
  const nameLen = Math.max(...shipped.map((b) => b.nameLen))
  const memory = []
  for (const [i, c] of all.entries()) {
    const pad = 'x'.repeat(nameLen - shipped[i].nameLen)
    const bytes = []
    for (const [j, n] of MEMORY_REQUESTS.entries()) bytes.push(await bytesFor(c, `m${i}${'bcd'[j]}${pad}`, n))
    bytes.push(await bytesFor(c, `m${i}e${pad}`, 10, true))
    memory.push({ c, bytes, shipped: shipped[i] })
    console.log(`${name(c).padEnd(60)} ${bytes.map((b) => `${b.n} req${b.spanning ? ' (2 windows)' : ''}: ${b.total} B in ${b.keys} key(s) of ${b.nameLen} chars`).join(', ')}; as shipped ${shipped[i].total} B`)
  }

  const redisVersion = (await ioredis.info('server')).match(/redis_version:(\S+)/)[1]
  const fmt = (n) => Math.round(n).toLocaleString('en-US')
  const lines = [
    '## Node: rate limit decisions',
    '',
    `redis-server ${redisVersion} on 127.0.0.1, same server and same run for every row; median of ${ROUNDS} rounds of ${SECONDS} s ` +
      `(each after ${WARMUP_MS} ms of warm-up; contenders interleaved, order rotated each round). Load average at the end: ${os.loadavg()[0].toFixed(1)}. ` +
      `Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0].model.trim()}). ` +
      `Limit ${LIMIT} per second per identifier, identifiers rotating over ${fmt(IDENTIFIERS)} (nearly every decision admits). ` +
      'Concurrency 64 = 64 decisions in flight from one process. redkit-node: one client (one multiplexed connection), ' +
      '`npm run build` (release), no localBlock. rate-limiter-flexible: `RateLimiterRedis` over one ioredis connection ' +
      '(its only Redis algorithm is a fixed window; `BurstyRateLimiter` combines two such limiters). @upstash/ratelimit: ' +
      '@upstash/redis over HTTP to redkit-gateway (release build) in front of the same redis-server, `ephemeralCache: false`, ' +
      'no analytics, so every decision asks Redis like the others.',
    '',
    '### Decisions per second and latency',
    '',
    '| peer | algorithm | concurrency | decisions/s | p50 (µs) | p99 (µs) |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.c.peer} | ${r.c.algorithm} | ${r.concurrency} | ${fmt(r.ops)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} |`),
    '',
    '### Redis commands per decision and bytes per identifier',
    '',
    'Commands: what the client (or the gateway, for Upstash) sent to Redis, counted with MONITOR over 100 decisions ' +
      'after a warm-up, commands run inside scripts (`[0 lua]`) left out. µs in Redis: `INFO commandstats` usec of EVALSHA ' +
      'per decision over 2,000 sequential decisions (MONITOR detached): the script\'s run time on the server. ' +
      `Bytes: \`MEMORY USAGE key SAMPLES 0\` summed over every key the peer created for one identifier (\`user:001:010\`) after n ` +
      `requests, limit ${LIMIT} per minute; \"over 2 windows\": limit ${LIMIT} per second, 5 requests just before a window boundary and 5 just after ` +
      '(the steady state of the two-window algorithms; with 1 s windows Upstash\'s window number, in its key names, is 2 digits longer). ' +
      `Key names count in MEMORY USAGE and each library adds its own parts to the prefix ` +
      `(redkit \`:{rl:api}:g:\`, Upstash \`:<window number>\`, rate-limiter-flexible \`:\`), so the prefixes were padded until every ` +
      `key name was ${nameLen} characters: the figures compare the state each algorithm keeps. The last column is with the same ` +
      'short prefix for all, key names as each library builds them. (redkit clients also keep one `<prefix>:layout` key per ' +
      'deployment, not per identifier, left out.)',
    '',
    `| peer | algorithm | commands/decision | which | µs in Redis per decision | ${MEMORY_REQUESTS.map((n) => `bytes after ${n}`).join(' | ')} | bytes after 10 over 2 windows | bytes after 1, key names as shipped |`,
    `|---|---|---:|---|---:|${MEMORY_REQUESTS.map(() => '---:').join('|')}|---:|---:|`,
    ...all.map((c, i) => {
      const t = trips[i]
      const which = Object.entries(t.names).map(([k, v]) => `${k} ×${(v / 100).toFixed(2)}`).join(', ')
      const m = memory[i].bytes.map((b) => `${fmt(b.total)}${b.keys === 1 ? '' : ` (${b.keys} keys)`}`).join(' | ')
      const sh = memory[i].shipped
      return `| ${c.peer} | ${c.algorithm} | ${t.perDecision.toFixed(2)} | ${which} | ${t.serverUs.toFixed(1)} | ${m} | ${sh.total} (${sh.nameLen}-char name) |`
    }),
    '',
    '### Where redkit stands against the goal',
    '',
    ...CONCURRENCY.map((concurrency) => {
      const at = rows.filter((r) => r.concurrency === concurrency)
      const best = (xs) => xs.reduce((a, b) => (b.ops > a.ops ? b : a))
      const ours = best(at.filter((r) => r.c.peer === 'redkit-node'))
      const peer = best(at.filter((r) => r.c.peer !== 'redkit-node' && !r.c.peer.startsWith('reference')))
      return `- Concurrency ${concurrency}: fastest peer ${peer.c.peer} (${peer.c.algorithm}) at ${fmt(peer.ops)} decisions/s; ` +
        `fastest redkit ${ours.c.algorithm} at ${fmt(ours.ops)} (${(ours.ops / peer.ops).toFixed(2)}x).`
    }),
    ...CONCURRENCY.map((concurrency) => {
      const at = rows.filter((r) => r.concurrency === concurrency && r.c.algorithm === 'fixed_window')
      const ours = at.find((r) => r.c.peer === 'redkit-node')
      const rlf = at.find((r) => r.c.peer.startsWith('rate-limiter-flexible'))
      // Round by round: the two ran minutes apart at most, so the ratio of each round is
      // steadier on a shared machine than the ratio of the medians.
      const ratios = ours.rounds.map((o, k) => o / rlf.rounds[k])
      return `- Same algorithm (fixed window), concurrency ${concurrency}: redkit-node ${fmt(ours.ops)} against rate-limiter-flexible ` +
        `${fmt(rlf.ops)} decisions/s (${(ours.ops / rlf.ops).toFixed(2)}x); round by round ${median(ratios).toFixed(2)}x ` +
        `(${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x over ${ratios.length} rounds).`
    }),
    `- One round trip: every peer and every redkit algorithm sends exactly one EVALSHA per decision (redkit with \`localBlock\` sends none for a blocked identifier).`,
    '- Bytes, same algorithm, same key-name length: fixed window ties (one integer key each). Sliding window: Upstash keeps ' +
      'one key per window, so within one window it ties with redkit\'s single integer, and across a window boundary (the ' +
      'steady state) it takes twice the bytes (two keys). Token bucket: redkit\'s string is smaller than Upstash\'s hash, and ' +
      'gcra (the default, same policy) is smaller still. No peer has gcra or an exact sliding log.',
    '',
    'Where the time goes (measured on this machine):',
    '',
    '- Client side, redkit-node runs each decision on the JS thread over a Node socket, like ioredis (the core\'s hosted ' +
      'transport; see node-cache.md): no thread hop, every decision started in one turn of the event loop leaves in one ' +
      'socket write, and the calls into the addon are plain functions. Earlier, each decision crossed JS -> tokio -> Redis -> ' +
      'tokio -> JS and redkit-node reached half of rate-limiter-flexible\'s decisions/s.',
    '- Server side, the scripts have a straight-line path for one rule (no closures, no tables) and convert numbers by ' +
      'arithmetic: 24-28% fewer instructions per call (results/ratelimit-script-cpu.md, counted under valgrind); an ' +
      'admission comes back as one integer rather than a table of five (6,100 instructions fewer) and a decision carries 4 ' +
      'arguments rather than 7 (about 1,000 each). What is left above rate-limiter-flexible\'s three calls (SET NX EX, ' +
      'INCRBY, PTTL) is mostly the server clock: TIME costs about 8,200 of gcra\'s 59,600 instructions; rate-limiter-flexible ' +
      'needs none, as its window starts at the first request and lives in the key\'s TTL. The client side more than makes ' +
      'up for it (node-instructions.md).',
    '- Concurrency 64 is decided by overlap: operations started in one JS job leave in writes of 16 rather than in one ' +
      'write at the end of the job, so Redis runs the first decisions while JS still starts the others. With one write per ' +
      'job, the two sides took turns (redis-server and node each under 50 % CPU) and redkit-node reached 90k decisions/s ' +
      'against rate-limiter-flexible\'s 141k. A command is built in one buffer already in RESP form and written straight ' +
      'into the output, and the result reaches JS as UTF-16 code units read with charCodeAt, not a decimal line to split.',
    '- On 2 cores, redis-server, the JS thread and the benchmark share the machine: at concurrency 64 the server\'s CPU per ' +
      'decision decides the ranking, at concurrency 1 the round trip does.',
    '- Upstash pays an HTTP request per decision (through the gateway), hence its latency at concurrency 1.',
    '',
    `Command: \`node bench/node/ratelimit.mjs\` (BENCH_SECONDS=${SECONDS}, BENCH_ROUNDS=${ROUNDS}), after ` +
      '`cargo build --release -p redkit-gateway` and `(cd bindings-node && npm run build)`.',
    '',
  ]
  writeResults(OUT, lines)

  ioredis.disconnect()
  for (const c of clients) await c.close()
  await gateway.stop()
  await server.stop()
}

main().catch(async (err) => {
  console.error(err)
  for (const s of started) await s.stop()
  process.exit(1)
})
