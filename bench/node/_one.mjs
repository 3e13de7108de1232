import Redis from 'ioredis'
import { Client } from 'redkit'
const [which, nStr, url] = process.argv.slice(2)
const N = Number(nStr)
const value = { id: 42, bio: 'x'.repeat(250) }
let op, done
if (which === 'ioredis') {
  const { port, hostname } = new URL(url)
  const r = new Redis({ host: hostname, port: Number(port) })
  await r.set('plain:user:42', JSON.stringify(value))
  op = async () => JSON.parse(await r.get('plain:user:42'))
  done = () => r.disconnect()
} else {
  const rk = await Client.connect(url, { prefix: 'cpu' })
  const users = rk.cache('users', { ttl: 3_600_000 })
  await users.set('user:42', value)
  op = () => users.get('user:42')
  done = () => rk.close()
}
for (let i = 0; i < 3000; i++) await op()
for (let i = 0; i < N; i++) await op()
await done()
