// Runs the wasm module: drives its tasks, bridges promises, and survives panics.
//
// On wasm32-unknown-unknown a Rust panic aborts: the instance traps and its memory can no
// longer be trusted. Every entry into the module goes through `guard`, so a trap is caught
// here, never left to escape from a microtask. The panic hook (src/host.rs) reports the
// message first; `recover` then rejects every operation that was in flight with a
// RedkitError (code ERR_PANIC), builds a fresh instance from the same compiled module
// (wasm-bindgen's __wbg_reset_state), and bumps `generation` so Client/Cache objects
// re-create their handles on next use. Callbacks of the dead instance are ignored.

import * as glue from '../pkg/redkit_wasm.js';
import { RedkitError } from './errors.js';
import { toError } from './native-errors.js';

let generation = 0;
let installed = -1;
let panicMessage = null;
const tasks = new Map();
const slots = new Map();
let nextSlot = 1;
// The AbortController of each host call in flight, by its promise's slot.
const controllers = new Map();

const host = {
  schedule(id) {
    const gen = generation;
    queueMicrotask(() => {
      if (gen === generation) quietly(() => glue.poll_task(id));
    });
  },
  settle(id, ok, value) {
    const t = tasks.get(id);
    if (!t) return;
    tasks.delete(id);
    if (ok) t.resolve(value);
    else t.reject(toError(value));
  },
  track(promise) {
    const id = nextSlot++;
    const gen = generation;
    slots.set(id, {});
    const land = (result) => {
      const entry = slots.get(id);
      if (gen !== generation || !entry) return;
      entry.result = result;
      entry.onLand?.();
      quietly(() => glue.wake_slot(id));
    };
    Promise.resolve(promise).then((v) => land([true, v]), (e) => land([false, e]));
    return id;
  },
  take(slot) {
    const entry = slots.get(slot);
    if (!entry || !entry.result) return undefined;
    slots.delete(slot);
    return entry.result;
  },
  forget(slot) {
    slots.delete(slot);
    // A host call nobody waits for any more: its function may stop.
    controllers.get(slot)?.abort();
    controllers.delete(slot);
  },
  // A call of a host function (src/host.rs `JsHost`): `fn(arg, signal)`, its promise tracked.
  callHost(fn, arg, id) {
    const controller = new AbortController();
    // `arg` is a view of the module's memory, valid during this call only: copy it.
    const copy = arg.slice();
    // The call's id, for a function that names its call when it calls back (a loader).
    const slot = host.track(Promise.resolve().then(() => fn(copy, controller.signal, id)));
    controllers.set(slot, controller);
    slots.get(slot).onLand = () => controllers.delete(slot);
    return slot;
  },
  abort(slot) {
    controllers.get(slot)?.abort();
  },
  // A timer the core can disarm (`cancel`) when it stops waiting, so a finished request's
  // deadline does not keep a process alive until it fires.
  sleep(ms) {
    let timer;
    const promise = new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    promise.cancel = () => clearTimeout(timer);
    return promise;
  },
  panicked(message) {
    panicMessage = message;
  },
};

function recover(trap) {
  const err = new RedkitError(
    `redkit panicked: ${panicMessage ?? trap?.message ?? trap}; the wasm module was restarted`,
    'ERR_PANIC',
  );
  panicMessage = null;
  generation += 1;
  const dead = [...tasks.values()];
  tasks.clear();
  slots.clear();
  controllers.clear();
  glue.__wbg_reset_state();
  ensure();
  for (const t of dead) t.reject(err);
  return err;
}

function isTrap(e) {
  return panicMessage !== null || e instanceof WebAssembly.RuntimeError;
}

/** Call into the module; a trap becomes a thrown RedkitError (ERR_PANIC) and a fresh
 *  instance, a redkit error its class. */
export function guard(fn) {
  try {
    return fn();
  } catch (e) {
    if (isTrap(e)) throw recover(e);
    throw toError(e);
  }
}

// For entries from callbacks (microtasks, promise reactions): nothing may escape from there.
// These entries return nothing, so anything thrown out of them unwound through wasm frames
// (a trap, or a JS exception from an import) and the instance can no longer be trusted.
function quietly(fn) {
  try {
    fn();
  } catch (e) {
    recover(e);
  }
}

let ready = false;

/** Instantiate from a compiled `WebAssembly.Module` or the module's bytes. */
export function setModule(module) {
  glue.initSync({ module });
  ready = true;
  ensure();
}

function ensure() {
  if (!ready) throw new RedkitError('the redkit wasm module is not loaded yet', 'ERR_NOT_LOADED');
  if (installed !== generation) {
    glue.install_host(host);
    installed = generation;
  }
}

/** Call a plain function of the module (one that starts no task). */
export function call(fn) {
  ensure();
  return guard(fn);
}

/** The current generation: objects made in an older one must be re-created. */
export function currentGeneration() {
  ensure();
  return generation;
}

/** Start a task (a function returning the module's task id) and await its result. */
export function run(start) {
  return new Promise((resolve, reject) => {
    let id;
    try {
      ensure();
      id = guard(start);
    } catch (e) {
      reject(e);
      return;
    }
    tasks.set(id, { resolve, reject });
  });
}

/** Re-creates a wasm object when the module was re-instantiated after a panic. */
export class Handle {
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

export { glue };
