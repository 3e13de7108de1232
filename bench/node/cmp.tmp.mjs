import Redis from 'ioredis'
import { Client } from 'redkit'
const c = await Client.connect('redis://127.0.0.1:6399', { prefix: 'perf' })
const cache = c.cache('users', { ttl: 3_600_000 })
await cache.set('u', { id: 1, name: 'x'.repeat(100) })
const io = new Redis({ port: 6399 })
await io.set('raw', JSON.stringify({ id: 1, name: 'x'.repeat(100) }))
const N = 30000
async function run(name, op) {
  for (let i = 0; i < 2000; i++) await op()
  const t0 = process.hrtime.bigint(); const cpu0 = process.cpuUsage()
  for (let i = 0; i < N; i++) await op()
  const cpu = process.cpuUsage(cpu0)
  console.log(name.padEnd(10), (Number(process.hrtime.bigint() - t0) / 1e3 / N).toFixed(1), 'us wall', ((cpu.user + cpu.system) / N).toFixed(1), 'us cpu')
}
for (let r = 0; r < 3; r++) {
  await run('ioredis', async () => JSON.parse(await io.get('raw')))
  await run('redkit', () => cache.get('u'))
}
await c.close(); io.disconnect()
