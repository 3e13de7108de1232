// The edge's `Client` and its backends for the facade shared with the Node package
// (facade/, from the repository's js/: `Cache`, `RateLimiter`, `Queue`), durations in
// milliseconds. Pattern logic lives in the Rust core; this file makes the transports,
// decodes what the wasm module hands back and re-creates wasm handles after a recovered
// panic.

import { toSendCommand } from './adapters.js';
import { opsBackend } from './cache-ops.js';
import { optionsObject, stringArg } from './facade/args.js';
import { Closed, DecodeError, InvalidArgument } from './errors.js';
import { toError } from './native-errors.js';
import { makeCache } from './facade/cache.js';
import { codecObject, coreOptions, isCodecObject, jsonText, parseJson } from './facade/values.js';
import { makeRateLimiter } from './facade/ratelimit.js';
import { currentLoad, runLoad } from './loading.js';
import { queue } from './queue.js';
import { Handle, glue, run } from './runtime.js';

const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A redkit client for edge runtimes: `Client.rest({url, token})` or `Client.adapter(client)`. */
export class Client {
  #handle;
  #closed = false;
  #onIncident = null;

  constructor(make) {
    if (typeof make !== 'function') {
      throw new InvalidArgument('use Client.rest({ url, token }) or Client.adapter(client)');
    }
    // Every wasm client made (again, after a recovered panic) reports to this client's hook.
    this.#handle = new Handle(() => {
      const wasm = make();
      wasm.on_incident((json) => queueMicrotask(() => this.#report(json)));
      return wasm;
    });
  }

  #report(json) {
    const hook = this.#onIncident;
    if (hook === null) return;
    try {
      hook(JSON.parse(json));
    } catch {
      // A hook that throws must not fail anything: the decision it reports has been made.
    }
  }

  /** Be told of decisions made because Redis failed (a fail-safe cache answering without
   *  it, a rate limiter's `onError` or `insurance`): `hook({ pattern, name, fallback,
   *  count, message, error })`, at most once per 10 s per cache or limiter, `count` the
   *  decisions since the last report. `null` stops the reports. */
  onIncident(hook) {
    if (hook !== null && hook !== undefined && typeof hook !== 'function') {
      throw new InvalidArgument('onIncident takes a function or null');
    }
    this.#onIncident = hook ?? null;
  }

  /** The Upstash-compatible REST protocol over fetch: `{ url, token, ...connection options }`
   *  (read by the core: prefix, timeout, retries, retryBackoffMax, ...). */
  static rest(opts) {
    const { url, token, ...connect } = optionsObject(opts, 'Client.rest options') ?? {};
    stringArg(url, 'url');
    if (token !== undefined && token !== null) stringArg(token, 'token');
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
    return cache(this, namespace, opts);
  }

  /** A rate limiter: `{ limit, window, algorithm, burst, limits, countDenied, onError,
   *  timeout, localBlock, clock }` (read by the core). */
  rateLimiter(name, opts) {
    return rateLimiter(this, name, opts);
  }

  /** A job queue to produce and inspect (the edge runs no worker): `defaultJobOptions` as
   *  BullMQ's (`attempts`, `backoff`, `removeOnComplete`, ...), checked by the core. */
  queue(name, defaultJobOptions) {
    return queue(this, name, defaultJobOptions);
  }
}

const codecs = {
  json: {
    encode: jsonText,
    decode(bytes) {
      let text;
      try {
        text = fromUtf8.decode(bytes);
      } catch (e) {
        throw new DecodeError(`cached value is not valid UTF-8: ${e.message}`);
      }
      return parseJson(text);
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

/** `client.cache(namespace, opts)`: the shared Cache over the wasm cache of `client`. */
function cache(client, namespace, opts) {
  const custom = isCodecObject(opts?.codec) ? codecObject(opts.codec, (u8) => u8) : null;
  // The core reads and checks every option (and rejects codecs the edge build lacks).
  const handle = new Handle(() => client._wasm().cache(namespace, coreOptions(opts)));
  const codec = custom ?? codecs[opts?.codec ?? 'json'];
  const wasm = () => {
    client._wasm();
    return handle.get();
  };
  const decode = (bytes) => (bytes === null || bytes === undefined ? null : codec.decode(bytes));
  return makeCache(
    {
      get: (key) => run(() => wasm().get(key)).then(decode),
      getOr: (key, missing) =>
        run(() => wasm().get(key)).then((bytes) => (bytes === null || bytes === undefined ? missing : codec.decode(bytes))),
      set: async (key, raw, o) => {
        await run(() => wasm().set(key, raw, o));
      },
      delete: (keys) => run(() => wasm().delete(keys)),
      invalidateTags: (tags) => run(() => wasm().invalidate_tags(tags)),
      getOrSet: (key, loader, o) => {
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
        return run(() => wasm().get_or_set(key, load, o, within)).then(decode);
      },
      ...opsBackend(wasm, decode),
    },
    codec.encode,
  );
}

/** The result's covered error (when `reason` is `error`) as its error class. */
function decision(r) {
  if (r.error !== undefined) r.error = toError(r.error);
  return r;
}

/** `client.rateLimiter(name, opts)`: the shared RateLimiter over the wasm limiter of
 *  `client`. The handle is re-created after a recovered panic (the local block list starts
 *  empty again then). */
function rateLimiter(client, name, opts) {
  // The core reads and checks every option.
  const handle = new Handle(() => client._wasm().rate_limiter(name, opts));
  const wasm = () => {
    client._wasm();
    return handle.get();
  };
  return makeRateLimiter({
    limit: (identifier, cost, now) => run(() => wasm().limit(identifier, cost, now)).then(decision),
    peek: (identifier, now) => run(() => wasm().peek(identifier, now)).then(decision),
    reset: async (identifier) => {
      await run(() => wasm().reset(identifier));
    },
    errors: () => wasm().errors(),
    adjust: (identifier, n, reward, now) => run(() => wasm().adjust(identifier, n, reward, now)).then(decision),
    wait: (identifier, cost, timeout) => run(() => wasm().wait(identifier, cost, timeout)).then(decision),
    get policy() {
      return wasm().policy();
    },
  });
}
