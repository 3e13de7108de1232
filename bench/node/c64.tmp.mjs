import { Client } from 'redkit'
import Redis from 'ioredis'
const c = await Client.connect('redis://127.0.0.1:6399', { prefix: 'perf' })
const cache = c.cache('users', { ttl: 3_600_000 })
await cache.set('u', { id: 1, name: 'x'.repeat(100) })
const io = new Redis({ port: 6399 })
await io.set('raw', JSON.stringify({ id: 1, name: 'x'.repeat(100) }))
async function run(name, op) {
  const lat = []
  const until = performance.now() + 2000
  async function worker() { while (performance.now() < until) { const t = performance.now(); await op(); lat.push(performance.now() - t) } }
  await Promise.all(Array.from({ length: 64 }, worker))
  lat.sort((a, b) => a - b)
  const q = (p) => (lat[Math.floor(lat.length * p)] * 1000).toFixed(0)
  console.log(name, lat.length / 2, 'ops/s p50', q(0.5), 'p90', q(0.9), 'p99', q(0.99), 'p999', q(0.999), 'max', (lat[lat.length - 1] * 1000).toFixed(0))
}
for (let r = 0; r < 2; r++) {
  await run('ioredis', async () => JSON.parse(await io.get('raw')))
  await run('redkit ', () => cache.get('u'))
}
await c.close(); io.disconnect()
