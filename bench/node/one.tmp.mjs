import Redis from 'ioredis'
import { Client } from 'redkit'
const which = process.argv[2]; const N = +process.argv[3]
let op
if (which === 'redkit') {
  const c = await Client.connect('redis://127.0.0.1:6399', { prefix: 'perf' })
  const cache = c.cache('users', { ttl: 3_600_000 })
  await cache.set('u', { id: 1, name: 'x'.repeat(100) })
  op = () => cache.get('u')
} else {
  const io = new Redis({ port: 6399 })
  await io.set('raw', JSON.stringify({ id: 1, name: 'x'.repeat(100) }))
  op = async () => JSON.parse(await io.get('raw'))
}
for (let i = 0; i < N; i++) await op()
process.exit(0)
