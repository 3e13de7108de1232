import { Client } from 'redkit'
import Redis from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
const which = process.argv[2]; const N = +process.argv[3]
let op
let n = 0
const id = () => 'user:' + (n++ % 10000)
if (which === 'redkit') {
  const c = await Client.connect('redis://127.0.0.1:6399', { prefix: 'rlb' })
  const l = c.rateLimiter('g', { limit: 100, window: 1000, algorithm: process.argv[4] || 'gcra' })
  op = () => l.limit(id())
} else {
  const io = new Redis({ port: 6399, enableOfflineQueue: false })
  await new Promise((r) => io.once('ready', r))
  const rlf = new RateLimiterRedis({ storeClient: io, points: 100, duration: 1, keyPrefix: 'rlf' })
  op = () => rlf.consume(id()).catch(() => {})
}
let left = N
async function worker() { while (left-- > 0) await op() }
await Promise.all(Array.from({ length: 64 }, worker))
process.exit(0)
