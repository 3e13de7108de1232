import { Client } from 'redkit'
import Redis from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
const c = await Client.connect('redis://127.0.0.1:6399', { prefix: 'rlb' })
const io = new Redis({ port: 6399, enableOfflineQueue: false })
await new Promise((r) => io.once('ready', r))
const rlf = new RateLimiterRedis({ storeClient: io, points: 100, duration: 1, keyPrefix: 'rlf' })
const rk = { gcra: c.rateLimiter('g', { limit: 100, window: 1000 }), fixed_window: c.rateLimiter('f', { limit: 100, window: 1000, algorithm: 'fixed_window' }) }
let n = 0
const id = () => 'user:' + (n++ % 10000)
async function run(name, conc, op) {
  let count = 0
  const until = performance.now() + 1500
  async function worker() { while (performance.now() < until) { await op(); count++ } }
  await Promise.all(Array.from({ length: conc }, worker))
  console.log(name.padEnd(22), 'c=' + conc, Math.round(count / 1.5), 'decisions/s')
}
for (const conc of [1, 64]) for (let r = 0; r < 2; r++) {
  await run('rate-limiter-flexible', conc, () => rlf.consume(id()).catch(() => {}))
  await run('redkit gcra', conc, () => rk.gcra.limit(id()))
  await run('redkit fixed_window', conc, () => rk.fixed_window.limit(id()))
}
await c.close(); io.disconnect()
