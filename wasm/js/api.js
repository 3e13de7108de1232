// The public API: the same names and shapes as the Node binding (shared/API.md), durations
// in milliseconds. Pattern logic lives in the Rust core; this file converts arguments,
// encodes values (JSON by default) and re-creates wasm handles after a recovered panic.

import { toSendCommand } from './adapters.js';
import { Closed, DecodeError, InvalidArgument, toError } from './errors.js';
import { currentLoad, runLoad } from './loading.js';
import { currentGeneration, glue, guard, run } from './runtime.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function str(v, what) {
  if (typeof v !== 'string') throw new InvalidArgument(`${what} must be a string, got ${typeof v}`);
  return v;
}
function optNum(v, what) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new InvalidArgument(`${what} must be a number, got ${typeof v}`);
  return v;
}
function optCount(v, what) {
  if (optNum(v, what) !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
    throw new InvalidArgument(`${what} must be a whole number from 0 to 4294967295, got ${v}`);
  }
  return v;
}
function optStr(v, what) {
  if (v === undefined || v === null) return undefined;
  return str(v, what);
}
function optBool(v, what) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new InvalidArgument(`${what} must be a boolean, got ${typeof v}`);
  return v;
}
function strings(v, what) {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InvalidArgument(`${what} must be an array of strings`);
  for (const s of v) str(s, `each of ${what}`);
  return v;
}
function options(v, what) {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object') throw new InvalidArgument(`${what} must be an object`);
  return v;
}

/** Re-creates a wasm object when the module was re-instantiated after a panic. */
class Handle {
  #make;
  #gen = -1;
  #value;
  constructor(make) {
    this.#make = make;
    this.get();
  }
  get() {
    const gen = currentGeneration();
    if (gen !== this.#gen) {
      this.#value = guard(this.#make);
      this.#gen = currentGeneration();
    }
    return this.#value;
  }
}

/** A redkit client for edge runtimes: `Client.rest({url, token})` or `Client.adapter(client)`. */
export class Client {
  #handle;
  #closed = false;

  constructor(make) {
    if (typeof make !== 'function') {
      throw new InvalidArgument('use Client.rest({ url, token }) or Client.adapter(client)');
    }
    this.#handle = new Handle(make);
  }

  /** The Upstash-compatible REST protocol over fetch. */
  static rest(opts) {
    const o = options(opts, 'Client.rest options');
    const url = str(o.url, 'url');
    if (o.token !== undefined && o.token !== null) str(o.token, 'token');
    const prefix = o.prefix === undefined ? undefined : str(o.prefix, 'prefix');
    const timeout = optNum(o.timeout, 'timeout');
    const retries = optNum(o.retries, 'retries');
    const backoff = optNum(o.retryBackoffMax, 'retryBackoffMax');
    return new Client(() => glue.WasmClient.rest(url, o.token ?? undefined, prefix, timeout, retries, backoff));
  }

  /** Wrap a JS Redis client you already have (see js/adapters.js for what it needs). */
  static adapter(client, opts) {
    const send = toSendCommand(client);
    const o = options(opts, 'Client.adapter options');
    const prefix = o.prefix === undefined ? undefined : str(o.prefix, 'prefix');
    return new Client(() => glue.WasmClient.adapter(send, prefix));
  }

  /** @internal the live wasm client. */
  _wasm() {
    if (this.#closed) throw new Closed('client is closed');
    return this.#handle.get();
  }

  /** `rest` or `adapter`. */
  get transport() {
    return this.#handle.get().transport;
  }

  ping() {
    return run(() => this._wasm().ping());
  }

  check() {
    return run(() => this._wasm().check());
  }

  async close() {
    if (this.#closed) return;
    await run(() => this.#handle.get().close());
    this.#closed = true;
  }

  /** A cache namespace: `{ ttl, jitter, staleTtl, earlyRefresh, lock, lockTimeout, codec, nearCache }`. */
  cache(namespace, opts) {
    return new Cache(this, str(namespace, 'namespace'), options(opts, 'cache options'));
  }

  /** A rate limiter: `{ limit, window, algorithm, burst, limits, countDenied, onError,
   *  timeout, localBlock, clock }`. */
  rateLimiter(name, opts) {
    return new RateLimiter(this, str(name, 'name'), options(opts, 'rateLimiter options'));
  }
}

const codecs = {
  json: {
    encode(value) {
      if (value === undefined) throw new InvalidArgument('cannot cache undefined; use null for an absent value');
      let text;
      try {
        text = JSON.stringify(value);
      } catch (e) {
        throw new DecodeError(`cannot encode value as JSON: ${e.message}`);
      }
      if (text === undefined) throw new DecodeError(`cannot encode a ${typeof value} as JSON`);
      return text;
    },
    decode(bytes) {
      try {
        return JSON.parse(fromUtf8.decode(bytes));
      } catch (e) {
        throw new DecodeError(`cached value is not the expected JSON: ${e.message}`);
      }
    },
  },
  bytes: {
    encode(value) {
      if (value instanceof Uint8Array) return value;
      if (typeof value === 'string') return utf8.encode(value);
      throw new InvalidArgument('the bytes codec stores Uint8Array (or string) values');
    },
    decode: (bytes) => bytes,
  },
};

/** One cache namespace (from `client.cache(namespace, opts)`). */
export class Cache {
  #client;
  #handle;
  #codec;

  constructor(client, namespace, o) {
    const codecName = o.codec === undefined ? 'json' : str(o.codec, 'codec');
    this.#codec = codecs[codecName];
    // Checked like everywhere else, then unused: a near cache needs Redis' key-tracking
    // pushes, which REST and adapter transports cannot receive, so every read goes to Redis.
    optCount(o.nearCache, 'nearCache');
    const args = [
      namespace,
      optNum(o.ttl, 'ttl'),
      optNum(o.jitter, 'jitter'),
      optNum(o.staleTtl, 'staleTtl'),
      optNum(o.earlyRefresh, 'earlyRefresh'),
      optBool(o.lock, 'lock'),
      optNum(o.lockTimeout, 'lockTimeout'),
      codecName,
    ];
    this.#client = client;
    // The core validates every option (and rejects codecs the edge build lacks).
    this.#handle = new Handle(() => this.#client._wasm().cache(...args));
  }

  #wasm() {
    this.#client._wasm();
    return this.#handle.get();
  }

  #decode(bytes) {
    return bytes === null || bytes === undefined ? null : this.#codec.decode(bytes);
  }

  /** The fresh value, or null. */
  async get(key) {
    str(key, 'key');
    return this.#decode(await run(() => this.#wasm().get(key)));
  }

  /** Write-through: `{ ttl, tags }`. */
  async set(key, value, opts) {
    str(key, 'key');
    const o = options(opts, 'set options');
    const raw = this.#codec.encode(value);
    const ttl = optNum(o.ttl, 'ttl');
    const tags = strings(o.tags, 'tags');
    await run(() => this.#wasm().set(key, raw, ttl, tags));
  }

  /** Delete entries: `delete('a', 'b')` or `delete(['a', 'b'])`; resolves to how many existed. */
  delete(...keys) {
    const list = keys.length === 1 && Array.isArray(keys[0]) ? keys[0] : keys;
    strings(list, 'keys');
    return run(() => this.#wasm().delete(list));
  }

  /** Cache-aside: on a miss, `loader()` (sync or async) runs once and its value is stored. */
  async getOrSet(key, loader, opts) {
    str(key, 'key');
    if (typeof loader !== 'function') throw new InvalidArgument('loader must be a function');
    const o = options(opts, 'getOrSet options');
    const ttl = optNum(o.ttl, 'ttl');
    const tags = strings(o.tags, 'tags');
    const codec = this.#codec;
    const start = () => {
      try {
        return Promise.resolve(loader()).then((v) => codec.encode(v));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    // A host function: (key, signal, call id); the id names this load (js/loading.js).
    const load = (_key, _signal, id) => runLoad(id, start);
    const within = currentLoad();
    return this.#decode(await run(() => this.#wasm().get_or_set(key, load, ttl, tags, within)));
  }

  /** Every entry carrying any of `tags` reads as a miss from now on; resolves to how many were deleted. */
  invalidateTags(tags) {
    const list = strings(tags, 'tags');
    return run(() => this.#wasm().invalidate_tags(list));
  }

  /** Memoize `fn` through getOrSet: `{ key: (...args) => string, ttl, tags }`. */
  wrap(fn, opts) {
    if (typeof fn !== 'function') throw new InvalidArgument('wrap needs a function');
    const o = options(opts, 'wrap options');
    const keyOf = o.key ?? ((...args) => `${fn.name || 'fn'}:${JSON.stringify(args)}`);
    if (typeof keyOf !== 'function') throw new InvalidArgument('wrap option key must be a function');
    const setOpts = { ttl: o.ttl, tags: o.tags };
    const cache = this;
    return function wrapped(...args) {
      return cache.getOrSet(str(keyOf(...args), 'wrap key'), () => fn.apply(this, args), setOpts);
    };
  }
}

/** `[{ limit, window, burst }]` as the flat `[limit, window, burst, ...]` the module takes. */
function rules(v) {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InvalidArgument('limits must be an array of { limit, window } objects');
  return v.flatMap((r, i) => {
    const o = options(r, `limits[${i}]`);
    const limit = optNum(o.limit, `limits[${i}].limit`);
    const window = optNum(o.window, `limits[${i}].window`);
    if (limit === undefined || window === undefined) throw new InvalidArgument(`limits[${i}] needs a limit and a window`);
    return [limit, window, optNum(o.burst, `limits[${i}].burst`) ?? 0];
  });
}

/** The result's covered error (when `reason` is `error`) as its error class. */
function decision(r) {
  if (r.error !== undefined) r.error = toError(r.error);
  return r;
}

/** A named rate limiter (from `client.rateLimiter(name, opts)`). Every decision is one
 *  atomic script in Redis; results are `{ allowed, limit, remaining, resetAfterMs,
 *  retryAfterMs, reason }`. */
export class RateLimiter {
  #client;
  #handle;

  constructor(client, name, o) {
    const args = [
      name,
      optNum(o.limit, 'limit'),
      optNum(o.window, 'window'),
      optStr(o.algorithm, 'algorithm'),
      optNum(o.burst, 'burst'),
      rules(o.limits),
      optBool(o.countDenied, 'countDenied'),
      optStr(o.onError, 'onError'),
      optNum(o.timeout, 'timeout'),
      optBool(o.localBlock, 'localBlock'),
      optStr(o.clock, 'clock'),
    ];
    this.#client = client;
    // The core validates every option; the handle is re-created after a recovered panic
    // (the local block list starts empty again then).
    this.#handle = new Handle(() => this.#client._wasm().rate_limiter(...args));
  }

  #wasm() {
    this.#client._wasm();
    return this.#handle.get();
  }

  /** One atomic decision: `{ cost }` (default 1), `nowMs` for a caller-supplied clock. */
  async limit(identifier, opts) {
    str(identifier, 'identifier');
    const o = options(opts, 'limit options');
    const cost = optNum(o.cost, 'cost');
    const now = optNum(o.nowMs, 'nowMs');
    return decision(await run(() => this.#wasm().limit(identifier, cost, now)));
  }

  /** What a request of cost 1 would get now, consuming nothing; `{ nowMs }` optional. */
  async peek(identifier, opts) {
    str(identifier, 'identifier');
    const now = optNum(options(opts, 'peek options').nowMs, 'nowMs');
    return decision(await run(() => this.#wasm().peek(identifier, now)));
  }

  /** Forget `identifier`: its next request starts from a full limit. */
  async reset(identifier) {
    str(identifier, 'identifier');
    await run(() => this.#wasm().reset(identifier));
  }
}
