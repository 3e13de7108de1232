// Which load a getOrSet call is made from, so that the core can refuse a loader asking
// for its own key (directly, or A -> B -> A) instead of letting it wait for itself. The
// core gives each load an id; the facade runs the loader with that id as the current load
// and hands it back with every getOrSet made meanwhile. The rule stays in the core.
//
// Where the runtime has an AsyncLocalStorage (globalThis.AsyncLocalStorage: Vercel Edge,
// Cloudflare Workers with nodejs_als, Deno with it installed), the id crosses awaits; it is
// enabled only while some loader runs, as an enabled one slows every promise. Elsewhere the
// id holds during the loader's synchronous part only, and a call made after an await
// cannot be told from another caller's: it waits at most lockTimeout (the core's bound).

let storage;
let running = 0;
let syncLoad;

function als() {
  if (storage === undefined) {
    const Storage = globalThis.AsyncLocalStorage;
    storage = typeof Storage === 'function' ? new Storage() : null;
  }
  return storage;
}

/** Start `loader` (which returns a promise) as load `id`. */
export function runLoad(id, loader) {
  const s = als();
  if (s === null) {
    const outer = syncLoad;
    syncLoad = id;
    try {
      return loader();
    } finally {
      syncLoad = outer;
    }
  }
  running++;
  const scope = { id };
  const done = () => {
    // A call the loader left running names no load once the loader ended.
    scope.id = undefined;
    if (--running === 0) s.disable();
  };
  const pending = s.run(scope, loader);
  pending.then(done, done);
  return pending;
}

/** The id of the load the running code is part of, if known. */
export function currentLoad() {
  const s = als();
  return s === null ? syncLoad : s.getStore()?.id;
}
