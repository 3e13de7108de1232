import { Client } from 'redkit'
import Redis from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
const c = await Client.connect('redis://127.0.0.1:6399', { prefix: 'rlb' })
const io = new Redis({ port: 6399, enableOfflineQueue: false })
await new Promise((r) => io.once('ready', r))
const rlf = new RateLimiterRedis({ storeClient: io, points: 100, duration: 1, keyPrefix: 'rlf' })
const g = c.rateLimiter('g', { limit: 100, window: 1000 })
const cache = c.cache('x')
await cache.set('u', 1)
let n = 0
const id = () => 'user:' + (n++ % 10000)
async function run(name, op) {
  const N = 5000
  const t0 = performance.now()
  for (let i = 0; i < N; i++) await op()
  console.log(name.padEnd(10), ((performance.now() - t0) * 1000 / N).toFixed(1), 'us/op')
}
for (let r = 0; r < 3; r++) {
  await run('rlf', () => rlf.consume(id()).catch(() => {}))
  await run('gcra', () => g.limit(id()))
  await run('cache', () => cache.get('u'))
  await run('io get', () => io.get('x'))
}
await c.close(); io.disconnect()
