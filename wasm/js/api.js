// The public API: the same names and shapes as the Node binding (shared/API.md), durations
// in milliseconds. Pattern logic lives in the Rust core; this file converts arguments,
// encodes values (JSON by default) and re-creates wasm handles after a recovered panic.

import { toSendCommand } from './adapters.js';
import { Closed, DecodeError, InvalidArgument, toError } from './errors.js';
import { currentLoad, runLoad } from './loading.js';
import { queue } from './queue.js';
import { Handle, glue, run } from './runtime.js';

const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function str(v, what) {
  if (typeof v !== 'string') throw new InvalidArgument(`${what} must be a string, got ${typeof v}`);
  return v;
}
/** A number argument (a cost, a caller-supplied clock); NaN is refused here, the range by the core. */
function optNum(v, what) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || Number.isNaN(v)) {
    throw new InvalidArgument(`${what} must be a number, got ${Number.isNaN(v) ? 'NaN' : typeof v}`);
  }
  return v;
}
function options(v, what) {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object') throw new InvalidArgument(`${what} must be an object`);
  return v;
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

  /** The Upstash-compatible REST protocol over fetch: `{ url, token, ...connection options }`
   *  (read by the core: prefix, timeout, retries, retryBackoffMax, ...). */
  static rest(opts) {
    const { url, token, ...connect } = options(opts, 'Client.rest options');
    str(url, 'url');
    if (token !== undefined && token !== null) str(token, 'token');
    return new Client(() => glue.WasmClient.rest(url, token ?? undefined, connect));
  }

  /** Wrap a JS Redis client you already have (see js/adapters.js for what it needs);
   *  `opts`: connection options (only `prefix` applies: the client owns its connection). */
  static adapter(client, opts) {
    const send = toSendCommand(client);
    return new Client(() => glue.WasmClient.adapter(send, opts));
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

  /** A cache namespace: `{ ttl, jitter, staleTtl, earlyRefresh, lock, lockTimeout, codec, nearCache }`
   *  (read by the core; durations in ms or with a unit, `'5m'`). */
  cache(namespace, opts) {
    return new Cache(this, namespace, opts);
  }

  /** A rate limiter: `{ limit, window, algorithm, burst, limits, countDenied, onError,
   *  timeout, localBlock, clock }` (read by the core). */
  rateLimiter(name, opts) {
    return new RateLimiter(this, name, opts);
  }

  /** A job queue to produce and inspect (the edge runs no worker): `defaultJobOptions` as
   *  BullMQ's (`attempts`, `backoff`, `removeOnComplete`, ...), checked by the core. */
  queue(name, defaultJobOptions) {
    return queue(this, name, defaultJobOptions);
  }
}

const codecs = {
  json: {
    encode(value) {
      // undefined is no JSON: like any value the codec cannot encode, a DecodeError (as in
      // Node and Python); use null for an absent value.
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
      // One rule in every runtime: the bytes codec stores bytes, a string is refused.
      if (value instanceof Uint8Array) return value;
      throw new InvalidArgument('the bytes codec stores Uint8Array values only');
    },
    decode: (bytes) => bytes,
  },
};

/** One cache namespace (from `client.cache(namespace, opts)`). */
export class Cache {
  #client;
  #handle;
  #codec;

  constructor(client, namespace, opts) {
    this.#client = client;
    // The core reads and checks every option (and rejects codecs the edge build lacks).
    this.#handle = new Handle(() => this.#client._wasm().cache(namespace, opts));
    this.#codec = codecs[opts?.codec ?? 'json'];
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
    return this.#decode(await run(() => this.#wasm().get(key)));
  }

  /** Write-through: `{ ttl, tags }`. */
  async set(key, value, opts) {
    const raw = this.#codec.encode(value);
    await run(() => this.#wasm().set(key, raw, opts));
  }

  /** Delete entries: `delete('a', 'b')`; resolves to how many existed. */
  async delete(...keys) {
    if (keys.length === 1 && Array.isArray(keys[0])) {
      throw new InvalidArgument('delete takes keys as separate arguments: delete(...keys)');
    }
    return run(() => this.#wasm().delete(keys));
  }

  /** Cache-aside: on a miss, `loader()` (sync or async) runs once and its value is stored. */
  async getOrSet(key, loader, opts) {
    if (typeof loader !== 'function') throw new InvalidArgument('loader must be a function');
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
    return this.#decode(await run(() => this.#wasm().get_or_set(key, load, opts, within)));
  }

  /** Every entry carrying any of `tags` reads as a miss from now on; resolves to how many were deleted. */
  async invalidateTags(tags) {
    return run(() => this.#wasm().invalidate_tags(tags));
  }

  /** Memoize `fn` through getOrSet: `{ key, ttl, tags }`. `key` is a function of the
   *  call's arguments or a string prefix (the key is then `prefix:` + the JSON of the
   *  arguments); without it the prefix is `fn.name`, so an anonymous function needs a key
   *  (as in every runtime: anonymous functions must not share one). */
  wrap(fn, opts) {
    if (typeof fn !== 'function') throw new InvalidArgument('wrap needs a function');
    const { key, ...setOpts } = options(opts, 'wrap options');
    let keyOf = key;
    if (typeof key !== 'function') {
      const prefix = key ?? fn.name;
      if (typeof prefix !== 'string' || prefix === '') {
        throw new InvalidArgument('wrap needs a `key` option (a string or a function) for an anonymous function');
      }
      keyOf = (...args) => `${prefix}:${JSON.stringify(args)}`;
    }
    const cache = this;
    return function wrapped(...args) {
      return cache.getOrSet(str(keyOf(...args), 'wrap key'), () => fn.apply(this, args), setOpts);
    };
  }
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

  constructor(client, name, opts) {
    this.#client = client;
    // The core reads and checks every option; the handle is re-created after a recovered
    // panic (the local block list starts empty again then).
    this.#handle = new Handle(() => this.#client._wasm().rate_limiter(name, opts));
  }

  #wasm() {
    this.#client._wasm();
    return this.#handle.get();
  }

  /** One atomic decision: `{ cost }` (default 1), `nowMs` for a caller-supplied clock. */
  async limit(identifier, opts) {
    const o = options(opts, 'limit options');
    const cost = optNum(o.cost, 'cost');
    const now = optNum(o.nowMs, 'nowMs');
    return decision(await run(() => this.#wasm().limit(identifier, cost, now)));
  }

  /** What a request of cost 1 would get now, consuming nothing; `{ nowMs }` optional. */
  async peek(identifier, opts) {
    const now = optNum(options(opts, 'peek options').nowMs, 'nowMs');
    return decision(await run(() => this.#wasm().peek(identifier, now)));
  }

  /** Forget `identifier`: its next request starts from a full limit. */
  async reset(identifier) {
    await run(() => this.#wasm().reset(identifier));
  }
}
