import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const native = require('/work/main/bindings-node/index.js')
const c = native.NativeClient.open('embedded://', null, () => {})
const N = 2_000_000
for (const name of ['poll', 'takeCompletions', 'poll', 'takeCompletions']) {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) c[name]()
  console.log(name, Number(process.hrtime.bigint() - t0) / N, 'ns/call')
}
const t0 = process.hrtime.bigint()
for (let i = 0; i < N; i++) native.errorClasses
console.log('prop', Number(process.hrtime.bigint() - t0) / N)
