// Drives redkit-gateway with the real @upstash/redis client (written by Upstash, not us)
// against a real redis-server: if this client works, the protocol is right.
//
// Starts redis-server and the built gateway binary on free loopback ports.
// REDKIT_GATEWAY_BIN overrides the binary (default: <workspace>/target/debug/redkit-gateway),
// REDKIT_REDIS_SERVER the redis-server command.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";

const here = path.dirname(fileURLToPath(import.meta.url));
const gatewayBin = process.env.REDKIT_GATEWAY_BIN ?? path.join(here, "..", "..", "target", "debug", "redkit-gateway");
const redisBin = process.env.REDKIT_REDIS_SERVER ?? "redis-server";
const TOKEN = `node-test-token-${process.pid}`;
const P = `gwjs:${process.pid}`;

let redisProc;
let gatewayProc;
let gatewayLog = "";
let url;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Resolves once `port` accepts a connection and answers `probe` with something starting with `expect`.
async function waitFor(port, probe, expect, what) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const reply = await new Promise((resolve) => {
      const sock = net.connect(port, "127.0.0.1");
      sock.setTimeout(1000);
      let data = "";
      sock.on("connect", () => sock.write(probe));
      sock.on("data", (d) => {
        data += d;
        sock.destroy();
        resolve(data);
      });
      sock.on("error", () => resolve(""));
      sock.on("timeout", () => {
        sock.destroy();
        resolve("");
      });
    });
    if (reply.startsWith(expect)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start on port ${port}\n${gatewayLog}`);
}

function exited(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.exitCode);
    else proc.once("exit", (code) => resolve(code));
  });
}

before(async () => {
  const redisPort = await freePort();
  redisProc = spawn(redisBin, ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  await waitFor(redisPort, "PING\r\n", "+PONG", "redis-server");

  const gatewayPort = await freePort();
  gatewayProc = spawn(gatewayBin, [], {
    env: {
      ...process.env,
      REDKIT_GATEWAY_LISTEN: `127.0.0.1:${gatewayPort}`,
      REDKIT_GATEWAY_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      REDKIT_GATEWAY_TOKEN: TOKEN,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  gatewayProc.stdout.on("data", (d) => (gatewayLog += d));
  gatewayProc.stderr.on("data", (d) => (gatewayLog += d));
  await waitFor(gatewayPort, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.", "redkit-gateway");
  url = `http://127.0.0.1:${gatewayPort}`;
});

after(async () => {
  if (gatewayProc && gatewayProc.exitCode === null) gatewayProc.kill("SIGKILL");
  if (redisProc && redisProc.exitCode === null) {
    redisProc.kill("SIGTERM");
    await exited(redisProc);
  }
});

// The client as users create it: base64 response encoding and automatic JSON deserialization on.
const client = (opts = {}) => new Redis({ url, token: TOKEN, retry: false, ...opts });

test("the gateway logs a start line", () => {
  assert.match(gatewayLog, /redkit-gateway .* listening on http:\/\/127\.0\.0\.1:\d+ -> redis 127\.0\.0\.1:\d+/);
});

test("strings: set, get, incr, expiry", async () => {
  const redis = client();
  assert.equal(await redis.set(`${P}:s`, "hello"), "OK");
  assert.equal(await redis.get(`${P}:s`), "hello");
  assert.equal(await redis.get(`${P}:missing`), null);
  assert.equal(await redis.incr(`${P}:n`), 1);
  assert.equal(await redis.incrby(`${P}:n`, 41), 42);
  assert.equal(await redis.set(`${P}:ttl`, "v", { ex: 100 }), "OK");
  const ttl = await redis.ttl(`${P}:ttl`);
  assert.ok(ttl > 0 && ttl <= 100, `ttl ${ttl}`);
  assert.equal(await redis.set(`${P}:s`, "x", { nx: true }), null);
});

test("strings: unicode and binary-ish values survive base64 and plain encoding", async () => {
  const values = ["héllo ✓ 日本語 🚀", "\u0000\u0001\u0002 nul and control", "line\nbreak\ttab \"quotes\" \\ back", "OK", ""];
  for (const encoding of ["base64", false]) {
    const redis = client({ responseEncoding: encoding, automaticDeserialization: false });
    for (const [i, v] of values.entries()) {
      const key = `${P}:u:${encoding}:${i}`;
      await redis.set(key, v);
      assert.equal(await redis.get(key), v, `encoding ${encoding}, value ${JSON.stringify(v)}`);
      assert.equal(await redis.strlen(key), Buffer.byteLength(v));
    }
  }
});

test("numbers: floats and scores reach Redis as the client wrote them", async () => {
  const redis = client();
  assert.equal(await redis.incrbyfloat(`${P}:f`, 1.5), 1.5);
  assert.equal(await redis.incrbyfloat(`${P}:f`, -0.25), 1.25);
  assert.equal(await redis.zadd(`${P}:z`, { score: 2.5, member: "a" }, { score: 1e2, member: "b" }), 2);
  assert.deepEqual(await redis.zrange(`${P}:z`, 0, -1, { withScores: true }), ["a", 2.5, "b", 100]);
  assert.equal(await redis.expire(`${P}:f`, 100), 1);
});

test("automatic deserialization on and off", async () => {
  const auto = client();
  const raw = client({ automaticDeserialization: false });
  await auto.set(`${P}:obj`, { a: 1, list: [1, "two"], nested: { ok: true } });
  assert.deepEqual(await auto.get(`${P}:obj`), { a: 1, list: [1, "two"], nested: { ok: true } });
  assert.equal(await raw.get(`${P}:obj`), JSON.stringify({ a: 1, list: [1, "two"], nested: { ok: true } }));
  await raw.set(`${P}:num`, "123");
  assert.equal(await auto.get(`${P}:num`), 123);
  assert.equal(await raw.get(`${P}:num`), "123");
});

test("hashes: hset, hget, hgetall, hincrby", async () => {
  const redis = client();
  const raw = client({ automaticDeserialization: false });
  assert.equal(await redis.hset(`${P}:h`, { name: "Ada", age: 36, city: "Zürich" }), 3);
  assert.equal(await redis.hget(`${P}:h`, "name"), "Ada");
  assert.deepEqual(await redis.hgetall(`${P}:h`), { name: "Ada", age: 36, city: "Zürich" });
  // Without deserialization the client hands back Redis's flat field/value list.
  assert.deepEqual(await raw.hgetall(`${P}:h`), ["name", "Ada", "age", "36", "city", "Zürich"]);
  assert.equal(await redis.hincrby(`${P}:h`, "age", 1), 37);
  assert.equal(await redis.hgetall(`${P}:nohash`), null);
});

test("pipeline: results in order, and a failing command surfaces", async () => {
  const redis = client();
  const p = redis.pipeline();
  p.set(`${P}:p1`, "a");
  p.incr(`${P}:pn`);
  p.get(`${P}:p1`);
  p.hset(`${P}:ph`, { f: "v" });
  p.hgetall(`${P}:ph`);
  assert.deepEqual(await p.exec(), ["OK", 1, "a", 1, { f: "v" }]);

  const failing = redis.pipeline();
  failing.set(`${P}:p2`, "text");
  failing.incr(`${P}:p2`);
  failing.get(`${P}:p2`);
  await assert.rejects(failing.exec(), /Command 2 \[ incr \] failed: ERR value is not an integer/);
  const kept = redis.pipeline();
  kept.set(`${P}:p3`, "text");
  kept.incr(`${P}:p3`);
  const results = await kept.exec({ keepErrors: true });
  assert.equal(results[0].result, "OK");
  assert.match(results[1].error, /^ERR value is not an integer/);
});

test("multi-exec: a transaction", async () => {
  const redis = client();
  const tx = redis.multi();
  tx.set(`${P}:t`, "1");
  tx.incr(`${P}:t`);
  tx.incrby(`${P}:t`, 10);
  tx.get(`${P}:t`);
  assert.deepEqual(await tx.exec(), ["OK", 2, 12, 12]);
});

test("eval, scriptLoad and evalsha", async () => {
  const redis = client();
  const script = "redis.call('SET', KEYS[1], ARGV[1]); return {redis.call('GET', KEYS[1]), tonumber(ARGV[2]) * 2}";
  assert.deepEqual(await redis.eval(script, [`${P}:e`], ["vé", 21]), ["vé", 42]);
  const sha = await redis.scriptLoad(script);
  assert.match(sha, /^[0-9a-f]{40}$/);
  assert.deepEqual(await redis.evalsha(sha, [`${P}:e2`], ["w", 5]), ["w", 10]);
  await assert.rejects(redis.evalsha("0".repeat(40), [], []), /NOSCRIPT/);
  await assert.rejects(redis.eval("return redis.call('NOPE')", [], []), /Unknown Redis command|unknown command/i);
});

test("command errors reach the client as UpstashError with Redis's text", async () => {
  const redis = client();
  await redis.set(`${P}:w`, "text");
  await assert.rejects(redis.lpush(`${P}:w`, "x"), (e) => e.name === "UpstashError" && /WRONGTYPE Operation against a key/.test(e.message));
});

test("denied commands are refused", async () => {
  const redis = client();
  await assert.rejects(redis.flushall(), /FLUSHALL is denied by this gateway/);
  await assert.rejects(redis.flushdb(), /FLUSHDB is denied by this gateway/);
  assert.equal(await redis.ping(), "PONG");
});

test("a wrong token is refused", async () => {
  const wrong = new Redis({ url, token: "not-the-token", retry: false });
  await assert.rejects(wrong.get(`${P}:s`), (e) => e.name === "UpstashError" && /invalid token/.test(e.message));
  const p = wrong.pipeline();
  p.get(`${P}:s`);
  await assert.rejects(p.exec(), /invalid token/);
  // The right token still works afterwards.
  assert.equal(await client().get(`${P}:s`), "hello");
});

test("SIGTERM stops the gateway cleanly", async () => {
  gatewayProc.kill("SIGTERM");
  assert.equal(await exited(gatewayProc), 0, gatewayLog);
  assert.match(gatewayLog, /redkit-gateway stopped/);
});
