// One contender, sequential operations (concurrency 1): the workload that
// instructions-per-op.sh runs under callgrind twice, with two values of N, so that the
// difference is the cost of N operations, start-up and JIT warm-up cancelled out.
//
//   node one-client.mjs CONTENDER N REDIS_URL
//   ONE_CLIENT_RATE=1: print the measured operations per second (after the warm-up) as the
//   last line (paired.mjs reads it).
//   CONTENDER: ioredis-get | ioredis-get-raw | redkit-get | redkit-get-bytes | rlf-consume |
//              redkit-limit

import Redis from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { Client } from 'redkit'

const [contender, n, url] = process.argv.slice(2)
const N = Number(n)
const value = { id: 42, bio: 'x'.repeat(250) }
let i = 0
// Identifiers rotating over 10,000, as in ratelimit.mjs.
const id = () => `user:${String(i++ % 10_000).padStart(5, '0')}`

async function ioredis() {
  const { port, hostname } = new URL(url)
  return new Redis({ host: hostname, port: Number(port) })
}

const contenders = {
  'ioredis-get': async () => {
    const r = await ioredis()
    await r.set('plain:user:42', JSON.stringify(value))
    return async () => JSON.parse(await r.get('plain:user:42'))
  },
  'ioredis-get-raw': async () => {
    const r = await ioredis()
    await r.set('plain:user:42', JSON.stringify(value))
    return () => r.get('plain:user:42')
  },
  'redkit-get-bytes': async () => {
    const raw = (await Client.connect(url, { prefix: 'ipo' })).cache('raw', { ttl: 3_600_000, codec: 'bytes' })
    await raw.set('user:42', Buffer.from(JSON.stringify(value)))
    return () => raw.get('user:42')
  },
  'redkit-get': async () => {
    const users = (await Client.connect(url, { prefix: 'ipo' })).cache('users', { ttl: 3_600_000 })
    await users.set('user:42', value)
    return () => users.get('user:42')
  },
  'rlf-consume': async () => {
    const rl = new RateLimiterRedis({ storeClient: await ioredis(), keyPrefix: 'ipo-rlf', points: 100, duration: 1 })
    return () => rl.consume(id()).then(() => true, (res) => {
      if (res instanceof Error) throw res
      return false
    })
  },
  'redkit-limit': async () => {
    const client = await Client.connect(url, { prefix: 'ipo' })
    const l = client.rateLimiter('api', { algorithm: 'fixed_window', limit: 100, window: 1000 })
    return async () => (await l.limit(id())).allowed
  },
}

const op = await contenders[contender]()
for (let k = 0; k < 3_000; k++) await op()
const started = performance.now()
for (let k = 0; k < N; k++) await op()
if (process.env.ONE_CLIENT_RATE) console.log(N / ((performance.now() - started) / 1000))
process.exit(0)
