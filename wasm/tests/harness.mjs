// Real servers for the wasm suite: a redis-server and the redkit-gateway binary in front of
// it, on free loopback ports, plus one factory per transport. Each test takes its own key
// prefix, so tests never see each other's keys.
//
// REDKIT_REDIS_SERVER overrides the redis-server command, REDKIT_GATEWAY_BIN the gateway
// binary (default: <workspace>/target/debug/redkit-gateway).

import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';
import { Client } from 'redkit-wasm';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
const gatewayBin = process.env.REDKIT_GATEWAY_BIN ?? path.join(root, 'target', 'debug', 'redkit-gateway');
const redisBin = process.env.REDKIT_REDIS_SERVER ?? 'redis-server';
export const TOKEN = `wasm-test-token-${process.pid}`;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(port, probe, expect, what, log) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const reply = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.setTimeout(1000);
      let data = '';
      sock.on('connect', () => sock.write(probe));
      sock.on('data', (d) => {
        data += d;
        sock.destroy();
        resolve(data);
      });
      sock.on('error', () => resolve(''));
      sock.on('timeout', () => {
        sock.destroy();
        resolve('');
      });
    });
    if (reply.startsWith(expect)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start on port ${port}\n${log()}`);
}

let counter = 0;
/** A key prefix no other test (or run) uses. */
export function prefix(name) {
  counter += 1;
  return `wt${process.pid}x${counter}x${name.replace(/[^a-z0-9]/gi, '')}`;
}

/** Start redis-server and the gateway; returns { redisPort, url, redis (ioredis), stop() }. */
export async function startServers() {
  const redisPort = await freePort();
  const redisProc = spawn(redisBin, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitFor(redisPort, 'PING\r\n', '+PONG', 'redis-server', () => '');

  let log = '';
  const gatewayPort = await freePort();
  const gatewayProc = spawn(gatewayBin, [], {
    env: {
      ...process.env,
      REDKIT_GATEWAY_LISTEN: `127.0.0.1:${gatewayPort}`,
      REDKIT_GATEWAY_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      REDKIT_GATEWAY_TOKEN: TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gatewayProc.stdout.on('data', (d) => (log += d));
  gatewayProc.stderr.on('data', (d) => (log += d));
  await waitFor(gatewayPort, 'GET / HTTP/1.0\r\n\r\n', 'HTTP/1.', 'redkit-gateway', () => log);

  const redis = new Redis(redisPort, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1 });
  const url = `http://127.0.0.1:${gatewayPort}`;
  return {
    redisPort,
    url,
    redis,
    transports: {
      rest: (p, opts = {}) => Client.rest({ url, token: TOKEN, prefix: p, ...opts }),
      adapter: (p) => Client.adapter(redis, { prefix: p }),
    },
    async stop() {
      redis.disconnect();
      gatewayProc.kill('SIGKILL');
      redisProc.kill('SIGTERM');
      await new Promise((r) => (redisProc.exitCode !== null ? r() : redisProc.once('exit', r)));
    },
  };
}
