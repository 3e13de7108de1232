import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const native = require('/work/main/bindings-node/index.js')
const c = native.NativeClient.open('embedded://', null, () => {})
const f = c.benchClosure()
const N = 2_000_000
for (let r = 0; r < 2; r++) {
  let t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) c.poll()
  console.log('method poll', Number(process.hrtime.bigint() - t0) / N, 'ns/call')
  t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) f()
  console.log('closure', Number(process.hrtime.bigint() - t0) / N, 'ns/call')
}
