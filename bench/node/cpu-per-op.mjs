// Wall time and CPU time per cache hit at concurrency 1: redkit `cache.get` beside ioredis
// `get` + `JSON.parse`. CPU is the whole node process (every thread), so it counts what a
// call costs beyond the time it waits.
// 127.0.0.1 only, bounded: 3 rounds of 20,000 sequential hits per client.
//
//   node cpu-per-op.mjs                (REDIS_URL=redis://127.0.0.1:P to reuse a server)

import Redis from 'ioredis'
import { Client } from 'redkit'

import { startRedis } from './harness.mjs'

const N = 20_000
const ROUNDS = 3

async function perOp(name, op) {
  for (let i = 0; i < 2_000; i++) await op()
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await op()
  const wall = Number(process.hrtime.bigint() - t0) / 1e3 / N
  const cpu = process.cpuUsage(cpu0)
  console.log(`${name}: ${wall.toFixed(1)} µs/op wall, ${((cpu.user + cpu.system) / N).toFixed(1)} µs CPU/op`)
}

const server = await startRedis()
const { port, hostname } = new URL(server.url)
const ioredis = new Redis({ host: hostname, port: Number(port) })
const rk = await Client.connect(server.url, { prefix: 'cpu' })
const users = rk.cache('users', { ttl: 3_600_000 })
const value = { id: 42, bio: 'x'.repeat(250) }
await ioredis.set('plain:user:42', JSON.stringify(value))
await users.set('user:42', value)

for (let round = 0; round < ROUNDS; round++) {
  await perOp('ioredis get + JSON.parse', async () => JSON.parse(await ioredis.get('plain:user:42')))
  await perOp('redkit cache.get        ', () => users.get('user:42'))
}
ioredis.disconnect()
await rk.close()
await server.stop()
