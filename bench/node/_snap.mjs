import { Client } from 'redkit'
import Redis from 'ioredis'
import v8 from 'node:v8'
const [which, url] = process.argv.slice(2)
let op
if (which === 'ioredis') {
  const { port, hostname } = new URL(url)
  const r = new Redis({ host: hostname, port: Number(port) })
  op = () => r.ping()
} else {
  const rk = await Client.connect(url, { prefix: 'cpu' })
  op = () => rk.ping()
}
let stop = false
setTimeout(() => { v8.writeHeapSnapshot(`/tmp/cg/${which}.heapsnapshot`); stop = true }, 1500)
await Promise.all(Array.from({ length: 64 }, async () => { while (!stop) await op() }))
process.exit(0)
