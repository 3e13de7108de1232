// Copies the shared facade (this folder's modules, their types, and the package.json that
// makes them ES modules inside the CommonJS Node package) into a package:
//   node js/copy.mjs bindings-node/facade      (the Node addon's build)
//   node js/copy.mjs wasm/js/facade            (wasm/build.sh)
// The copies are build output (git ignores them), so the packages carry the facade in
// their npm tarballs while the repository holds it once.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dest = path.resolve(process.argv[2] ?? '');
if (process.argv.length !== 3) {
  console.error('usage: node js/copy.mjs <destination folder>');
  process.exit(2);
}
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(dest, { recursive: true });
for (const name of fs.readdirSync(here)) {
  if (name === 'package.json' || name.endsWith('.js') || name.endsWith('.d.ts')) {
    fs.copyFileSync(path.join(here, name), path.join(dest, name));
  }
}
