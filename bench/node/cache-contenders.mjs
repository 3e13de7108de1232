// The cache-hit contenders cache-hit.mjs and interleaved.mjs both run, seeded on one
// server: ioredis GET (raw, and with JSON.parse as the seed's cache-aside does), and redkit
// get (JSON and bytes codec) and getOrSet. Each benchmark adds its own peers.

import Redis from 'ioredis'
import { Client } from 'redkit'

import { USER } from './harness.mjs'

export const RAW_GET = 'ioredis `get` (raw string)'
export const PARSED_GET = 'ioredis `get` + `JSON.parse`'
export const BYTES = 'redkit `cache.get` (bytes codec: a Buffer, no decoding)'

/** A loader for caches that must hit: it runs only if the benchmark is wrong. */
export function loaderMustNotRun() {
  throw new Error('benchmark expected a hit')
}

/**
 * Connect both clients to `url`, seed the entry each contender reads, and return the
 * `[name, op]` contenders with the clients (to add peers) and a `close()`.
 */
export async function cacheHitContenders(url) {
  const { port, hostname } = new URL(url)
  const ioredis = new Redis({ host: hostname, port: Number(port) })
  const rk = await Client.connect(url, { prefix: 'bench' })
  const users = rk.cache('users', { ttl: 3_600_000 })
  // The same bytes, handed back as a Buffer: a hit that decodes nothing, like a raw GET.
  const raw = rk.cache('raw', { ttl: 3_600_000, codec: 'bytes' })
  await ioredis.set('plain:user:42', JSON.stringify(USER))
  await users.set('user:42', USER)
  await raw.set('user:42', Buffer.from(JSON.stringify(USER)))
  const contenders = [
    [RAW_GET, () => ioredis.get('plain:user:42')],
    [PARSED_GET, async () => JSON.parse(await ioredis.get('plain:user:42'))],
    ['redkit `cache.get`', () => users.get('user:42')],
    [BYTES, () => raw.get('user:42')],
    ['redkit `cache.getOrSet` (hit)', () => users.getOrSet('user:42', loaderMustNotRun)],
  ]
  const close = async () => {
    ioredis.disconnect()
    await rk.close()
  }
  return { ioredis, rk, connection: { host: hostname, port: Number(port) }, contenders, close }
}
