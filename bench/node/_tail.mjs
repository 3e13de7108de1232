import Redis from 'ioredis'
import { Client } from 'redkit'
const [which, url] = process.argv.slice(2)
const value = { id: 42, bio: 'x'.repeat(250) }
let op
if (which === 'ioredis') {
  const { port, hostname } = new URL(url)
  const r = new Redis({ host: hostname, port: Number(port) })
  await r.set('plain:user:42', JSON.stringify(value))
  op = async () => JSON.parse(await r.get('plain:user:42'))
} else if (which === 'ping') {
  const rk = await Client.connect(url, { prefix: 'cpu' })
  op = () => rk.ping()
} else if (which === 'bytes') {
  const rk = await Client.connect(url, { prefix: 'cpu' })
  const users = rk.cache('ub', { ttl: 3_600_000, codec: 'bytes' })
  await users.set('user:42', Buffer.from(JSON.stringify(value)))
  op = () => users.get('user:42')
} else {
  const rk = await Client.connect(url, { prefix: 'cpu' })
  const users = rk.cache('users', { ttl: 3_600_000 })
  await users.set('user:42', value)
  op = () => users.get('user:42')
}
async function run(ms, rec) {
  const end = performance.now() + ms
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (true) { const t0 = performance.now(); if (t0 >= end) return; await op(); if (rec && !process.env.NOREC) rec.push([t0, performance.now() - t0]); else if (rec) rec.push([0, 0]) }
  }))
}
await run(500)
const rec = []
const s = performance.now()
await run(2000, rec)
const lat = rec.map((x) => x[1]).sort((a, b) => a - b)
console.log(which, 'ops', rec.length / 2, 'p50', lat[lat.length >> 1].toFixed(3), 'p99', lat[Math.floor(lat.length * 0.99)].toFixed(3), 'max', lat[lat.length - 1].toFixed(2))
// slow ops: group by start time in 1 ms buckets
const slow = rec.filter((x) => x[1] > 2).map((x) => Math.floor(x[0] - s))
const buckets = new Map()
for (const b of slow) buckets.set(b, (buckets.get(b) ?? 0) + 1)
console.log('slow ops', slow.length, 'distinct ms', buckets.size, [...buckets.entries()].slice(0, 20).map(([k, v]) => `${k}:${v}`).join(' '))
process.exit(0)
