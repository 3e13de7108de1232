// Replays conformance/cache/*.json (see conformance/README.md) through either JS package,
// over every transport of the backend (Node: a real server and the embedded engine; edge:
// REST through the gateway and the adapter): the same results everywhere. A new op cannot
// pass unnoticed: unknown ops fail the test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { allTransports, api, conformanceScenarios, prefix, scenarioClient, useBackend } from './harness.mjs';

const { RedkitError } = api;
const scenarios = conformanceScenarios('cache');
const backend = useBackend();

function cacheOptions(setup) {
  const o = {};
  if (setup.ttl_ms !== undefined) o.ttl = setup.ttl_ms;
  if (setup.jitter_ms !== undefined) o.jitter = setup.jitter_ms;
  if (setup.stale_ttl_ms !== undefined) o.staleTtl = setup.stale_ttl_ms;
  if (setup.lock_timeout_ms !== undefined) o.lockTimeout = setup.lock_timeout_ms;
  if (setup.early_refresh !== undefined) o.earlyRefresh = setup.early_refresh;
  if (setup.lock !== undefined) o.lock = setup.lock;
  if (setup.near_cache !== undefined) o.nearCache = setup.near_cache;
  if (setup.fail_safe !== undefined) o.failSafe = setup.fail_safe;
  if (setup.soft_timeout_ms !== undefined) o.softTimeout = setup.soft_timeout_ms;
  if (setup.circuit_breaker_ms !== undefined) o.circuitBreaker = setup.circuit_breaker_ms;
  return o;
}

/** Thrown by `{throws}` loaders: JS loaders' own errors come back unchanged. */
class ScenarioLoaderError extends Error {}

async function replay(scenario, transport) {
  const client = await scenarioClient(backend, transport, scenario, prefix(`conf${scenario.file}`));
  const cache = client.cache(scenario.setup.namespace, cacheOptions(scenario.setup));
  let loaderCalls = 0;
  try {
  for (const [i, raw] of scenario.steps.entries()) {
    const step = { ...raw, key: text(raw.key), keys: raw.keys?.map(text) };
    const where = `${scenario.file} step ${i} (${step.op})`;
    const setOpts = {};
    if (step.tags !== undefined) setOpts.tags = step.tags;
    if (step.ttl_ms !== undefined) setOpts.ttl = step.ttl_ms;
    const act = () => {
      switch (step.op) {
        case 'get':
          return 'default' in step ? cache.get(step.key, { default: step.default }) : cache.get(step.key);
        case 'set':
          return cache.set(step.key, step.value, setOpts).then(() => null);
        case 'delete':
          return cache.delete(...step.keys);
        case 'invalidate_tags':
          return cache.invalidateTags(step.tags);
        case 'get_or_set':
          return cache.getOrSet(
            step.key,
            async () => {
              loaderCalls += 1;
              if ('throws' in step.loader) throw new ScenarioLoaderError(step.loader.throws);
              return step.loader.returns;
            },
            setOpts,
          );
        case 'sleep':
          return new Promise((r) => setTimeout(() => r(null), step.ms));
        case 'get_many':
          return cache.getMany(step.keys);
        case 'set_many':
          return cache.setMany(step.entries, setOpts).then(() => null);
        case 'delete_many':
          return cache.deleteMany(step.keys);
        case 'exists':
          return cache.exists(step.key);
        case 'ttl':
          return cache.ttl(step.key);
        case 'touch':
          return cache.touch(step.key, step.ttl_ms);
        case 'incr':
          return cache.incr(step.key, step.by, step.ttl_ms === undefined ? undefined : { ttl: step.ttl_ms });
        case 'clear':
          return cache.clear();
        case 'stats':
          return Promise.resolve(cache.stats());
        default:
          throw new Error(`${where}: unknown op`);
      }
    };
    if (step.error !== undefined) {
      const err = await act().then(
        (v) => assert.fail(`${where}: expected ${step.error}, got ${JSON.stringify(v)}`),
        (e) => e,
      );
      if (step.error === 'LoaderError') {
        // The JS loader's own exception, message preserved.
        assert.ok(err instanceof ScenarioLoaderError, `${where}: ${err}`);
        assert.equal(err.message, step.loader.throws, where);
      } else {
        assert.ok(err instanceof RedkitError, `${where}: ${err}`);
        assert.equal(err.name, step.error, `${where}: ${err}`);
      }
    } else if (step.expect_range !== undefined) {
      const [low, high] = step.expect_range;
      const got = await act();
      assert.ok(Number.isInteger(got) && low <= got && got <= high, `${where}: got ${got}`);
    } else if (step.op === 'stats') {
      assert.deepEqual({ ...(await act()) }, camelCase(step.expect), where);
    } else if ('expect' in step) {
      assert.deepEqual(await act(), step.expect, where);
    } else {
      await act();
    }
    if (step.loader_calls !== undefined) assert.equal(loaderCalls, step.loader_calls, `${where}: loader calls`);
  }
  } finally {
    await client.close();
  }
}

/** An object's snake_case names in camelCase (`stale_serves` → `staleServes`). */
function camelCase(o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), v]));
}

/** A scenario key: `{"$lone_surrogate": "k"}` is "k" and a lone surrogate (conformance/README.md). */
function text(v) {
  return v !== null && typeof v === 'object' && '$lone_surrogate' in v ? `${v.$lone_surrogate}\uD800` : v;
}

for (const transport of allTransports) {
  describe(`cache conformance over ${transport}`, () => {
    for (const scenario of scenarios) {
      test(`${scenario.file}: ${scenario.name}`, () => replay(scenario, transport));
    }
  });
}

test('the scenarios are there', () => {
  assert.ok(scenarios.length >= 3);
});
