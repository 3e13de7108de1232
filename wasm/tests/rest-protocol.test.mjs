// The REST transport's side of the Upstash protocol, checked against a scripted HTTP server
// that records what it receives: paths, bodies, headers, base64 replies, per-slot pipeline
// errors, and retries after 5xx answers. TIME is answered by the server itself (see below).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, ServerError } from 'redkit-wasm';

const here = path.dirname(fileURLToPath(import.meta.url));
const b64 = (s) => Buffer.from(s).toString('base64');
let server;
let url;
let seen = [];
let script = [];
// How far this server's clock is from the test's, ms (its TIME replies).
let clockOffsetMs = 0;

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const command = JSON.parse(body);
      if (command[0] === 'TIME') {
        // A client sends TIME beside its first cache read to learn the server's clock:
        // answered here, outside the script and the record of each test.
        const ms = Date.now() + clockOffsetMs;
        const time = [String(Math.floor(ms / 1000)), String((ms % 1000) * 1000)];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result: time.map(b64) }));
        return;
      }
      seen.push({ method: req.method, path: req.url, headers: req.headers, body: command });
      const [status, reply] = script.shift() ?? [500, { error: 'unscripted request' }];
      if (status === 'hang') return; // never answers: the client's deadline ends it
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

function reset(...replies) {
  seen = [];
  script = replies;
}

test('one command: POST / with a JSON array, bearer token, base64 encoding asked', async () => {
  reset([200, { result: b64('PONG') }]);
  await Client.rest({ url: `${url}/`, token: 'sekret' }).ping();
  assert.equal(seen.length, 1);
  const [r] = seen;
  assert.equal(r.method, 'POST');
  assert.equal(r.path, '/');
  assert.deepEqual(r.body, ['PING']);
  assert.equal(r.headers.authorization, 'Bearer sekret');
  assert.equal(r.headers['upstash-encoding'], 'base64');
});

test('a pipeline is one POST /pipeline; each slot keeps its own result or error', async () => {
  const info = '# Server\r\nredis_version:7.2.4\r\naof_enabled:1\r\nmaxmemory_policy:noeviction\r\n';
  reset([200, [{ result: b64(info) }, { error: 'ERR unknown command CONFIG' }]]);
  const report = await Client.rest({ url }).check();
  assert.equal(seen.length, 1);
  assert.equal(seen[0].path, '/pipeline');
  assert.deepEqual(seen[0].body, [['INFO'], ['CONFIG', 'GET', 'save']]);
  assert.deepEqual(report, { serverVersion: '7.2.4', persistence: 'aof', evictionPolicy: 'noeviction', warnings: [] });
});

test('5xx answers are retried with backoff, then succeed', async () => {
  reset([503, { error: 'busy' }], [502, { error: 'bad gateway' }], [200, { result: b64('PONG') }]);
  await Client.rest({ url, retries: 3, retryBackoffMax: 50 }).ping();
  assert.equal(seen.length, 3);
});

test('a timeout after retries names the whole deadline, not what was left of it', async () => {
  reset([503, { error: 'busy' }], [503, { error: 'busy' }], ['hang']);
  const started = Date.now();
  await assert.rejects(
    Client.rest({ url, timeout: 800, retries: 3, retryBackoffMax: 50 }).ping(),
    (e) => e.name === 'TimeoutError' && /took longer than 800ms/.test(e.message),
  );
  assert.equal(seen.length, 3);
  assert.ok(Date.now() - started < 1_500);
});

test('retries are bounded: retries + 1 attempts, then a ConnectionError', async () => {
  reset([503, { error: 'a' }], [503, { error: 'b' }], [503, { error: 'c' }], [200, { result: b64('PONG') }]);
  await assert.rejects(Client.rest({ url, retries: 2, retryBackoffMax: 20 }).ping(), (e) => e.name === 'ConnectionError' && /503/.test(e.message));
  assert.equal(seen.length, 3);
});

test('4xx answers other than 408/429 are not retried', async () => {
  reset([404, { error: 'unknown path' }], [200, { result: b64('PONG') }]);
  await assert.rejects(Client.rest({ url, retries: 3 }).ping(), (e) => e.name === 'ConnectionError' && /404: unknown path/.test(e.message));
  assert.equal(seen.length, 1);
  reset([429, { error: 'slow down' }], [200, { result: b64('PONG') }]);
  await Client.rest({ url, retries: 3, retryBackoffMax: 20 }).ping();
  assert.equal(seen.length, 2);
});

test('an error reply is a ServerError and is not retried', async () => {
  reset([400, { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' }]);
  const cache = Client.rest({ url }).cache('c');
  await assert.rejects(cache.get('k'), (e) => e instanceof ServerError && /^server error: WRONGTYPE/.test(e.message));
  assert.equal(seen.length, 1);
});

test('a reply that is not JSON or not base64 is a DecodeError', async () => {
  reset([200, { result: 'not base64!' }]);
  await assert.rejects(Client.rest({ url }).cache('c').get('k'), (e) => e.name === 'DecodeError');
  reset([200, { neither: 1 }]);
  await assert.rejects(Client.rest({ url }).ping(), (e) => e.name === 'DecodeError');
});

test("freshness is judged by the server's clock (TIME), not the client's", async () => {
  const minute = 60_000;
  const entry = (freshUntil) => [200, { result: b64(`v1:${freshUntil}:0:"v"`) }];
  // The server's clock is 10 minutes behind: what it wrote a moment ago for a minute is fresh.
  clockOffsetMs = -10 * minute;
  reset(entry(Date.now() + clockOffsetMs + minute));
  assert.equal(await Client.rest({ url }).cache('c').get('k'), 'v');
  // 10 minutes ahead: what turned stale a second ago on the server's clock is stale.
  clockOffsetMs = 10 * minute;
  reset(entry(Date.now() + clockOffsetMs - 1000));
  assert.equal(await Client.rest({ url }).cache('c').get('k'), null);
  clockOffsetMs = 0;
});

test('a finished request leaves no timer behind: a process exits once its client is closed', async () => {
  reset([200, { result: b64('PONG') }]);
  // A child process: one request with a 30 s deadline, then close. Each request's deadline
  // timer used to stay armed after the answer, keeping the process alive until it fired.
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { Client } from 'redkit-wasm';
       const c = Client.rest({ url: process.env.URL, timeout: 30000 });
       await c.ping();
       await c.close();
       console.log('closed', Date.now());`,
    ],
    { env: { ...process.env, URL: url }, stdio: ['ignore', 'pipe', 'inherit'], cwd: here },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  const exited = Date.now();
  assert.equal(code, 0);
  const closed = Number(/closed (\d+)/.exec(out)?.[1]);
  // Well before the deadline (a loaded machine takes a second or two to tear a process down).
  assert.ok(exited - closed < 10_000, `exited ${exited - closed} ms after close()`);
  assert.equal(seen.length, 1);
});
