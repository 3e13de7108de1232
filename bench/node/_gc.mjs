import { Client } from 'redkit'
import Redis from 'ioredis'
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
let stop = false, n = 0
setTimeout(() => { stop = true }, 2000)
await Promise.all(Array.from({ length: 64 }, async () => { while (!stop) { await op(); n++ } }))
console.log(which, n / 2)
process.exit(0)
