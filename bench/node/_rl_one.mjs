import Redis from 'ioredis'
import { Client } from 'redkit'
import { RateLimiterRedis } from 'rate-limiter-flexible'
const [which, nStr, url] = process.argv.slice(2)
const N = Number(nStr)
let op
if (which === 'rlf') {
  const { port, hostname } = new URL(url)
  const r = new Redis({ host: hostname, port: Number(port) })
  const rl = new RateLimiterRedis({ storeClient: r, keyPrefix: 'cgrlf', points: 100, duration: 1 })
  op = (id) => rl.consume(id).then(() => true, (res) => { if (res instanceof Error) throw res; return false })
} else {
  const rk = await Client.connect(url, { prefix: 'cgrk' })
  const l = rk.rateLimiter('api', { algorithm: 'fixed_window', limit: 100, window: 1000 })
  op = async (id) => (await l.limit(id)).allowed
}
let i = 0
const id = () => `user:${(i++ % 10000).toString().padStart(5, '0')}`
for (let k = 0; k < 3000; k++) await op(id())
for (let k = 0; k < N; k++) await op(id())
process.exit(0)
