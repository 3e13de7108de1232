// Replays conformance/ratelimit/*.json (see conformance/README.md) through either JS
// package, over both transports of the backend (Node: a real server and the embedded
// engine; edge: REST through the gateway and the adapter), then checks that the two gave
// the very same numbers on every deterministic step. Unknown ops and setup fields fail.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { allTransports, conformanceScenarios, prefix, scenarioClient, useBackend } from './harness.mjs';

const scenarios = conformanceScenarios('ratelimit');
const backend = useBackend();

/** The scenario's snake_case setup as `client.rateLimiter` options. */
function limiterOptions(setup) {
  const names = {
    limit: 'limit', window_ms: 'window', algorithm: 'algorithm', burst: 'burst', count_denied: 'countDenied',
    on_error: 'onError', timeout_ms: 'timeout', local_block: 'localBlock', clock: 'clock',
    insurance: 'insurance', circuit_breaker_ms: 'circuitBreaker',
    block_for_ms: 'blockFor', allow_list: 'allowList', deny_list: 'denyList', rate: 'rate',
  };
  const o = {};
  for (const [k, v] of Object.entries(setup)) {
    if (k === 'name') continue;
    if (k === 'extra_limits') {
      o.limits = v.map((r) => ({ limit: r.limit, window: r.window_ms, burst: r.burst }));
      continue;
    }
    assert.ok(k in names, `unknown setup field ${k}`);
    o[names[k]] = v;
  }
  return o;
}

const build = (client, setup) => client.rateLimiter(setup.name ?? 'conformance', limiterOptions(setup));

/** A result in the scenarios' snake_case. */
const snake = (r) => ({
  allowed: r.allowed,
  limit: r.limit,
  remaining: r.remaining,
  reset_after_ms: r.resetAfterMs,
  retry_after_ms: r.retryAfterMs,
  reason: r.reason,
});

/** Full results of the steps that carry their own clock, per transport and scenario. */
const logs = Object.fromEntries(allTransports.map((t) => [t, new Map()]));

async function replay(scenario, transport) {
  const client = await scenarioClient(backend, transport, scenario, prefix(`rl${scenario.file}`));
  const limiter = build(client, scenario.setup);
  const log = [];
  try {
  for (const [i, step] of scenario.steps.entries()) {
    const where = `${scenario.file} step ${i} (${step.op})`;
    const act = async () => {
      switch (step.op) {
        case 'limit':
          return snake(await limiter.limit(step.identifier, { cost: step.cost, nowMs: step.now_ms }));
        case 'peek':
          return snake(await limiter.peek(step.identifier, { nowMs: step.now_ms }));
        case 'reset':
          return limiter.reset(step.identifier).then(() => null);
        case 'penalty':
        case 'reward':
          return snake(await limiter[step.op](step.identifier, step.n, { nowMs: step.now_ms }));
        case 'wait':
          return snake(await limiter.wait(step.identifier, { cost: step.cost, timeout: step.timeout_ms }));
        case 'sleep':
          return new Promise((r) => setTimeout(() => r(null), step.ms));
        case 'build':
          build(client, { ...scenario.setup, ...step.options });
          return null;
        default:
          throw new Error(`${where}: unknown op`);
      }
    };
    if (step.error !== undefined) {
      const err = await act().then(
        (v) => assert.fail(`${where}: expected ${step.error}, got ${JSON.stringify(v)}`),
        (e) => e,
      );
      assert.equal(err.name, step.error, `${where}: ${err}`);
      assert.equal(err.code, 'ERR_INVALID_ARGUMENT', where);
      log.push({ error: err.name });
    } else {
      const got = await act();
      if ('expect' in step) {
        if (step.expect !== null && typeof step.expect === 'object') {
          // Only the listed fields are compared (time-dependent ones may be left out).
          const picked = Object.fromEntries(Object.keys(step.expect).map((k) => [k, got?.[k]]));
          assert.deepEqual(picked, step.expect, where);
        } else {
          assert.deepEqual(got, step.expect, where);
        }
      }
      // A block_for block ends on the server's clock: only the compared fields are exact.
      const clocked = step.now_ms !== undefined && scenario.setup.block_for_ms === undefined;
      if (clocked || step.op === 'reset' || step.op === 'build') log.push(got);
    }
  }
  } finally {
    await client.close();
  }
  logs[transport].set(scenario.file, log);
}

for (const transport of allTransports) {
  describe(`rate limit conformance over ${transport}`, () => {
    for (const scenario of scenarios) {
      test(`${scenario.file}: ${scenario.name}`, () => replay(scenario, transport));
    }
  });
}

test(`${allTransports.join(' and ')} give identical results, every field, every clocked step`, () => {
  const [a, b] = allTransports;
  assert.equal(logs[a].size, scenarios.length);
  assert.equal(logs[b].size, scenarios.length);
  for (const { file } of scenarios) assert.deepEqual(logs[a].get(file), logs[b].get(file), file);
});

test('the rate limit scenarios are there', () => {
  assert.ok(scenarios.length >= 10, `found ${scenarios.length}`);
  assert.ok(scenarios.every((s) => s.pattern === 'ratelimit'));
});
