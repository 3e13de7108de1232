// index.d.ts type-checks against real usage (tsc --strict, no emit).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

test('index.d.ts describes the API as it is used', () => {
  const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [
    tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--skipLibCheck', 'false', path.join(here, 'types-usage.ts'),
  ], { cwd: here, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
