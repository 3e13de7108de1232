import { Client } from 'redkit'
const c = await Client.connect('redis://127.0.0.1:6399', { prefix: 'perf' })
const cache = c.cache('users', { ttl: 3_600_000 })
await cache.set('u', { id: 1, name: 'x'.repeat(100) })
const N = +process.argv[2] || 100000
const t0 = process.hrtime.bigint(); const cpu0 = process.cpuUsage()
for (let i = 0; i < N; i++) await cache.get('u')
const cpu = process.cpuUsage(cpu0)
console.log(Number(process.hrtime.bigint() - t0) / 1e3 / N, 'us wall', (cpu.user + cpu.system) / N, 'us cpu')
await c.close()
