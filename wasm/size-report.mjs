// Writes bench/results/wasm-size.md: the shipped .wasm raw and gzipped, and what takes the
// space. Attribution uses the name section of cargo's output (before wasm-bindgen and
// wasm-opt strip it): code bytes per crate, from each function's (demangled) path, scaled
// to the shipped size.
//
//   node wasm/size-report.mjs <shipped.wasm> <cargo-output.wasm> <out.md>

import fs from 'node:fs';
import zlib from 'node:zlib';

const [shippedPath, namedPath, outPath] = process.argv.slice(2);
const shipped = fs.readFileSync(shippedPath);
const gz = zlib.gzipSync(shipped, { level: 9 }).length;

function leb(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return [result, pos];
  }
}

function sections(buf) {
  const out = [];
  let pos = 8;
  while (pos < buf.length) {
    const id = buf[pos++];
    let size;
    [size, pos] = leb(buf, pos);
    let name = null;
    if (id === 0) {
      let n;
      let p;
      [n, p] = leb(buf, pos);
      name = buf.subarray(p, p + n).toString('utf8');
    }
    out.push({ id, name, start: pos, size });
    pos += size;
  }
  return out;
}

const SECTION = { 1: 'type', 2: 'import', 3: 'function', 4: 'table', 5: 'memory', 6: 'global', 7: 'export', 8: 'start', 9: 'element', 10: 'code', 11: 'data', 12: 'datacount' };

function analyse(buf) {
  const secs = sections(buf);
  let imports = 0;
  const bodies = [];
  const names = new Map();
  for (const s of secs) {
    if (s.id === 2) imports = countFuncImports(buf, s);
    if (s.id === 10) {
      let [count, p] = leb(buf, s.start);
      for (let i = 0; i < count; i++) {
        let size;
        [size, p] = leb(buf, p);
        bodies.push(size);
        p += size;
      }
    }
    if (s.id === 0 && s.name === 'name') {
      let p = s.start;
      let n;
      [n, p] = leb(buf, p);
      p += n;
      while (p < s.start + s.size) {
        const sub = buf[p++];
        let len;
        [len, p] = leb(buf, p);
        if (sub === 1) {
          let q = p;
          let count;
          [count, q] = leb(buf, q);
          for (let i = 0; i < count; i++) {
            let idx;
            let nlen;
            [idx, q] = leb(buf, q);
            [nlen, q] = leb(buf, q);
            names.set(idx, buf.subarray(q, q + nlen).toString('utf8'));
            q += nlen;
          }
        }
        p += len;
      }
    }
  }
  return { secs, imports, bodies, names };
}

function countFuncImports(buf, s) {
  let [count, p] = leb(buf, s.start);
  let funcs = 0;
  for (let i = 0; i < count; i++) {
    let n;
    [n, p] = leb(buf, p);
    p += n;
    [n, p] = leb(buf, p);
    p += n;
    const kind = buf[p++];
    if (kind === 0) {
      funcs++;
      [, p] = leb(buf, p);
    } else if (kind === 1) {
      p++;
      const flags = buf[p++];
      [, p] = leb(buf, p);
      if (flags & 1) [, p] = leb(buf, p);
    } else if (kind === 2) {
      const flags = buf[p++];
      [, p] = leb(buf, p);
      if (flags & 1) [, p] = leb(buf, p);
    } else if (kind === 3) {
      p += 2;
    } else {
      [, p] = leb(buf, p);
      [, p] = leb(buf, p);
    }
  }
  return funcs;
}

// Which crate a (mangled or demangled) Rust symbol belongs to.
function crateOf(name) {
  if (!name) return '(unnamed)';
  const legacy = name.match(/^_ZN(\d+)(\w+)/);
  const v0 = name.startsWith('_R') && name.match(/C(?:s[0-9A-Za-z]*_)?(\d+)(\w+)/);
  let first = name;
  if (legacy) {
    first = legacy[2].slice(0, Number(legacy[1]));
    // A trait impl (`<serde_json::de::Deserializer as ...>`): count it for the implementing type's crate.
    const path = name.match(/([a-z_][a-z0-9_]*)\.\./);
    if (/^_ZN\d+_\$LT\$/.test(name) && path) first = path[1];
  }
  else if (v0) first = v0[2].slice(0, Number(v0[1]));
  else {
    const m = name.match(/^<?([a-z_][a-z0-9_]*)::/);
    if (m) first = m[1];
    else if (/^(__|wasm_bindgen|dlmalloc)/.test(name)) first = name.split(/::|\$/)[0];
    else first = name.replace(/[^a-z0-9_].*$/i, '') || name;
  }
  if (/^(std|core|alloc|hashbrown|dlmalloc|compiler_builtins|rustc_demangle|memchr)$/.test(first)) return `Rust std (${first})`;
  return first;
}

const shippedInfo = analyse(shipped);
const named = analyse(fs.readFileSync(namedPath));
const byCrate = new Map();
let namedCode = 0;
named.bodies.forEach((size, i) => {
  const c = crateOf(named.names.get(named.imports + i));
  byCrate.set(c, (byCrate.get(c) ?? 0) + size);
  namedCode += size;
});

const sectionRows = shippedInfo.secs
  .filter((s) => s.size > 256)
  .map((s) => `| ${s.id === 0 ? `custom: ${s.name}` : SECTION[s.id]} | ${s.size.toLocaleString('en')} |`)
  .join('\n');
const shippedCode = shippedInfo.secs.find((s) => s.id === 10)?.size ?? 0;
const ranked = [...byCrate.entries()].sort((a, b) => b[1] - a[1]);
const rest = ranked.slice(12).reduce((n, [, size]) => n + size, 0);
const crateRows = [...ranked.slice(0, 12), ["everything else", rest]]
  .map(([c, n]) => `| ${c} | ${((100 * n) / namedCode).toFixed(1)}% | ~${Math.round((shippedCode * n) / namedCode / 1024)} KB |`)
  .join('\n');

const md = `# redkit-wasm size

The shipped \`pkg/redkit_wasm_bg.wasm\` (cargo release with opt-level z, fat LTO, one codegen
unit, panic=abort → wasm-bindgen → \`wasm-opt -Oz\`), written by \`wasm/build.sh\` + \`wasm/size-report.mjs\`.

| | bytes |
|---|---|
| raw | ${shipped.length.toLocaleString('en')} |
| gzip -9 | ${gz.toLocaleString('en')} |
| budget (gzipped) | 409,600 |

## Sections of the shipped module

| section | bytes |
|---|---|
${sectionRows}

## Code by crate

Share of function-body bytes per crate in cargo's output (which still has names), and that
share applied to the shipped code section (${shippedCode.toLocaleString('en')} bytes).

| crate | share | shipped (approx.) |
|---|---|---|
${crateRows}

What the rows mean: \`redkit\` is the core (cache and rate limiter, scripts, keys, errors) and
\`redkit_wasm\` the two transports, the task executor and the bindings; \`wasm_bindgen\` and
\`js_sys\` the JS glue; \`serde_json\` parses REST replies (the core links it for its JSON
codec too); \`sha1_smol\` names the Lua scripts; \`core\`/\`alloc\`/\`std\`/\`hashbrown\` are
formatting (error messages, float printing), the allocator and the hash maps. The data
section is the Lua scripts (cache and rate limiter) plus every message string.
`;
fs.mkdirSync(new URL('.', `file://${outPath.startsWith('/') ? outPath : `${process.cwd()}/${outPath}`}`).pathname, { recursive: true });
fs.writeFileSync(outPath, md);
console.log(`wasm size: ${shipped.length} bytes raw, ${gz} bytes gzipped -> ${outPath}`);
if (gz > 409_600) {
  console.error('wasm is over the 400 KB gzipped budget');
  process.exit(1);
}
