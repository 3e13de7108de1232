// The package must load in Node, Deno, Workers and browsers: no Node built-ins, no
// require, no file-system access — checked on the files the package ships.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { root } from './harness.mjs';

const pkgDir = path.join(root, 'wasm');
const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));

function shippedJs() {
  const files = [];
  for (const entry of manifest.files) {
    const full = path.join(pkgDir, entry);
    if (fs.statSync(full).isDirectory()) {
      for (const f of fs.readdirSync(full)) if (f.endsWith('.js')) files.push(path.join(full, f));
    } else if (entry.endsWith('.js')) files.push(full);
  }
  return files;
}

test('shipped JS imports nothing but its own relative modules', () => {
  const files = shippedJs();
  assert.ok(files.length >= 6, files.join(', '));
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8');
    for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2];
      assert.ok(spec.startsWith('./') || spec.startsWith('../'), `${path.basename(f)} imports ${spec}`);
    }
    assert.doesNotMatch(src, /\brequire\(|\bprocess\.|node:/, path.basename(f));
  }
});

test('the shipped files exist after the build', () => {
  for (const entry of manifest.files) assert.ok(fs.existsSync(path.join(pkgDir, entry)), entry);
});
