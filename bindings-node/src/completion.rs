//! Settling many JavaScript promises with one wake-up of the JS thread.
//!
//! napi-rs' `async fn` creates a threadsafe function (a libuv handle) for every promise,
//! which made a cache hit several times slower than a plain ioredis GET. Cache and rate
//! limit operations instead take an operation id from `dispatch.js`, run on the client's
//! executor (on the JS thread, see `executor.rs`), and push their outcome into one queue
//! per client. JS takes every finished outcome in one call after each native call that can
//! finish operations, and settles the matching promises. The call that starts an operation
//! is such a call when JS asks (see [`Start`]): a lone operation then costs one native call
//! to start and send, not two.
//!
//! Host functions (the core's host-callback contract, `redkit::host`: cache loaders, next
//! queue processors) go the same way in reverse: a call pushes a "call" entry naming the
//! function and carrying the argument; JS runs the function with an `AbortSignal` and hands
//! the result (or the thrown error) back with `hostResolved` / `hostRejected`, which
//! completes a oneshot channel the call's future awaits. Cancelling the call pushes an
//! "abort" entry, and JS aborts the signal. No threadsafe function is created per call.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Waker};

use futures_util::FutureExt;
use napi::bindgen_prelude::{BufferSlice, Either7, FromNapiValue, Null, Uint32Array};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{sys, Env, JsString, Status};
use redkit::host::{HostCall, HostError, HostResult};
use redkit::transport::hosted::HostedTransport;
use tokio::sync::oneshot;

use crate::errors::to_js;
use crate::executor::Executor;
use crate::functions::Made;

/// The first argument of every operation: `2 * id + take`. `id` names the operation in
/// completions; `take` asks the start call to return what `take` returns, as JS does for
/// an operation it sends at once (see `submit` in `dispatch.js`): it saves the second
/// native call that would fetch the bytes to write.
#[derive(Clone, Copy)]
pub struct Start {
    /// The operation's id.
    pub id: u32,
    take: bool,
}

impl Start {
    /// The start `2 * id + take` names (for a `#[napi]` method, which takes it as a number).
    pub fn from_word(word: u32) -> Self {
        Start {
            id: word >> 1,
            take: word & 1 == 1,
        }
    }
}

#[allow(unsafe_code)]
impl FromNapiValue for Start {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: the caller's contract: a live value of the call in progress, in `env`.
        let word = unsafe { u32::from_napi_value(env, value)? };
        Ok(Start::from_word(word))
    }
}

/// The JS function called when a task was woken off the JS thread: no arguments, called as
/// `wake()`. Weak: an idle client does not keep the process alive (`redkit.js` holds a
/// ref'd timer while operations are in flight).
pub type Wake = ThreadsafeFunction<(), (), (), Status, false, true>;

/// What an operation produced.
pub enum Outcome {
    /// `undefined` (writes).
    Unit,
    /// `null` (a miss).
    Null,
    /// Text (JSON), any of it.
    Text(String),
    /// Text whose bytes are all ASCII: also latin1, which V8 copies without decoding UTF-8.
    Ascii(Vec<u8>),
    /// A string as UTF-16 code units, any of them (rate limit results, `ratelimit.rs`).
    Utf16(Vec<u16>),
    /// Raw bytes: a Buffer in JS (small ones as latin1 text that `redkit.js` turns into one).
    Bytes(Vec<u8>),
    /// A count (deleted entries).
    Count(u32),
    /// The operation failed.
    Failed(napi::Error),
    /// Not an operation's end: call host function `target` (see [`HostTarget`]) with
    /// these bytes; the entry's id is the call's.
    Call(HostTarget, Vec<u8>),
    /// The same with text, for a function registered to take a string (a worker's
    /// processor, whose job is JSON text): no bytes for JS to turn into a string.
    CallText(HostTarget, String),
    /// Not an operation's end: abort the signal of the call whose id the entry has, with
    /// the core's reason (`Cancel::reason`, `"Kind: message"`) if it gave one.
    Abort(Option<String>),
}

/// Which JS function a host call runs: the loader of an operation (a cache `getOrSet`), or
/// a function JS registered with its dispatcher (`Dispatcher.register`).
#[derive(Clone, Copy, Debug)]
pub enum HostTarget {
    /// The loader of the operation with this id.
    Loader(u32),
    /// The registered function with this id.
    Registered(u32),
}

impl HostTarget {
    /// As JS reads it from a call's tag: `2 * id + registered`.
    fn word(self) -> u32 {
        match self {
            HostTarget::Loader(op) => op << 1,
            HostTarget::Registered(f) => (f << 1) | 1,
        }
    }
}

/// Bytes shorter than this reach JS as latin1 text (see `slot`): what Node's
/// `Buffer.from(string)` takes from its shared pool (half of `Buffer.poolSize`).
const POOLED_BYTES: usize = 4096;

/// Tags of an entry in the header (see `take`): the low two bits; a call's tag carries its
/// target above them (`TAG_CALL | target << 2`).
const TAG_OK: u32 = 0;
const TAG_ERR: u32 = 1;
const TAG_CALL: u32 = 2;
const TAG_ABORT: u32 = 3;

/// Header flags (see `take`): the result carries bytes to write first; more operations
/// finished than the header holds (take again).
const FLAG_OUTPUT: u32 = 1;
const FLAG_MORE: u32 = 2;

/// A value handed to JS. Bytes cross as copies: a copy of a small buffer costs less than
/// the finalizer an external (zero-copy) buffer needs. The output for the socket crosses as
/// a latin1 string (one char per byte, lossless), which the socket writes without
/// allocating a Buffer.
pub type Slot<'env> =
    Either7<u32, (), Null, String, BufferSlice<'env>, napi::Error, JsString<'env>>;

/// The `Uint32Array` JS shares with the native side (`dispatch.js` makes it): each `take`
/// writes `[count, flags, id, tag, id, tag, ...]` into it. Ids and tags cross as plain
/// memory writes because a JS array costs about 600 instructions per element set through
/// napi (`napi_set_element`), a third of what a cache hit cost in all.
pub struct Header(Uint32Array);

impl Header {
    /// Wrap the array JS passed in (at least room for one operation).
    pub fn new(array: Uint32Array) -> napi::Result<Self> {
        if array.len() < 4 {
            return Err(napi::Error::new(
                Status::InvalidArg,
                "the completion header needs room for at least one operation",
            ));
        }
        Ok(Header(array))
    }

    /// How many operations one take can report.
    fn capacity(&self) -> usize {
        (self.0.len() - 2) / 2
    }

    /// The array's elements, to write.
    #[allow(unsafe_code)]
    fn words(&mut self) -> &mut [u32] {
        // SAFETY: `take` runs on the JS thread inside a native call, so no JS code runs and
        // nothing else reads or writes the array meanwhile; `self.0` holds a reference that
        // keeps its memory alive.
        unsafe { self.0.as_mut() }
    }
}

type HostReply = oneshot::Sender<HostResult>;

/// The outcome queue of one client.
pub struct Completions {
    ready: Mutex<Vec<(u32, Outcome)>>,
    /// Set once by `functions(header)`, before any take.
    header: Mutex<Option<Header>>,
    /// Host calls JS has not answered yet, by call id, with the core's id of each
    /// (`HostCall::id`, see `load_of`).
    calls: Mutex<HashMap<u32, (HostReply, u64)>>,
    next_call: AtomicU32,
    executor: Arc<Executor>,
    /// The connection whose output `take` hands over; `None` on the embedded engine.
    link: Option<Arc<HostedTransport>>,
}

impl Completions {
    /// A queue for the operations `executor` runs over `link`.
    pub fn new(executor: Arc<Executor>, link: Option<Arc<HostedTransport>>) -> Arc<Self> {
        Arc::new(Completions {
            ready: Mutex::new(Vec::new()),
            header: Mutex::new(None),
            calls: Mutex::new(HashMap::new()),
            next_call: AtomicU32::new(0),
            executor,
            link,
        })
    }

    /// The executor the operations run on.
    pub fn executor(&self) -> &Arc<Executor> {
        &self.executor
    }

    fn push(&self, id: u32, outcome: Outcome) {
        lock(&self.ready).push((id, outcome));
    }

    /// Start operation `start.id`: run `op` on the executor and queue its outcome (a panic
    /// in it becomes its error, never an abort). Returns what `take` returns if JS asked
    /// for it, `undefined` otherwise.
    pub fn start<F>(self: &Arc<Self>, env: &Env, start: Start, op: F) -> napi::Result<Made>
    where
        F: Future<Output = redkit::Result<Outcome>> + Send + 'static,
    {
        let (id, this) = (start.id, Arc::clone(self));
        self.executor.spawn(async move {
            let outcome = match AssertUnwindSafe(op).catch_unwind().await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(err)) => Outcome::Failed(to_js(err)),
                Err(panic) => Outcome::Failed(napi::Error::new(
                    Status::GenericFailure,
                    panic_message(&panic),
                )),
            };
            this.push(id, outcome);
        });
        if start.take {
            self.take(env)
        } else {
            Made::from(env, ())
        }
    }

    /// Where `take` writes ids and tags from now on.
    pub fn set_header(&self, header: Header) {
        *lock(&self.header) = Some(header);
    }

    /// What JS must do now. The header gets the number of entries, the flags, and each
    /// entry's id and tag (0 a value, 1 an error, 2 call a host function, 3 abort a call's
    /// signal); the
    /// result is the bytes to write (a latin1 string) if there are any, then the
    /// operations' values in the header's order: the one thing itself when there is just
    /// one (the usual case at low concurrency: no array to build), an array otherwise,
    /// `undefined` when there is nothing. One call per turn of the event loop.
    pub fn take(&self, env: &Env) -> napi::Result<Made> {
        let mut header = lock(&self.header);
        let header = header
            .as_mut()
            .ok_or_else(|| napi::Error::new(Status::GenericFailure, "no completion header"))?;
        let output = self
            .link
            .as_deref()
            .and_then(|link| link.drain_output(|bytes| env.create_string_latin1(bytes)))
            .transpose()?;
        let mut batch = std::mem::take(&mut *lock(&self.ready));
        let rest = (batch.len() > header.capacity()).then(|| batch.split_off(header.capacity()));
        let words = header.words();
        words[0] = batch.len() as u32;
        words[1] = if output.is_some() { FLAG_OUTPUT } else { 0 }
            | if rest.is_some() { FLAG_MORE } else { 0 };
        // Values are made before anything is handed back: a value that cannot be made fails
        // its own operation (its tag says so), and every taken operation is reported.
        let made = {
            let mut slots = batch.drain(..).enumerate().map(|(i, (id, outcome))| {
                let (tag, value) = slot(env, outcome);
                words[2 + 2 * i] = id;
                words[3 + 2 * i] = tag;
                value
            });
            match (output, slots.len()) {
                (None, 0) => Made::from(env, ()),
                (Some(text), 0) => Made::from(env, text),
                // The usual case at low concurrency: one value, no array to allocate.
                (None, 1) => Made::from(env, slots.next().expect("one")),
                (output, _) => {
                    let all: Vec<Slot> = output.map(Either7::G).into_iter().chain(slots).collect();
                    Made::from(env, all)
                }
            }
        };
        // Hand the batch's allocation back for the next one, or put back what did not fit
        // ahead of what finished since.
        let mut ready = lock(&self.ready);
        match rest {
            Some(mut rest) => {
                rest.append(&mut ready);
                *ready = rest;
            }
            None if ready.is_empty() => *ready = batch,
            None => {}
        }
        made
    }

    /// Call host function `target` with `call`'s argument: ask JS to run it, wait for its
    /// result. When the call's signal is set (the core cancelled it, or stopped waiting),
    /// JS is asked to abort the function's `AbortSignal`.
    /// `text`: the function takes its argument as a string (see [`Outcome::CallText`]);
    /// an argument that is not UTF-8 fails the call.
    pub async fn call_host(
        self: Arc<Self>,
        target: HostTarget,
        call: HostCall,
        text: bool,
    ) -> HostResult {
        let arg = if text {
            match String::from_utf8(call.arg) {
                Ok(text) => Outcome::CallText(target, text),
                Err(_) => {
                    return Err(HostError::new(
                        "EncodeError",
                        "the argument of a function that takes text is not UTF-8",
                    ))
                }
            }
        } else {
            Outcome::Call(target, call.arg)
        };
        let (tx, rx) = oneshot::channel();
        let id = self.next_call.fetch_add(1, Ordering::Relaxed);
        lock(&self.calls).insert(id, (tx, call.id));
        self.push(id, arg);
        // A waker, not a select: the abort must reach JS even when this future is dropped.
        let abort = Waker::from(Arc::new(AbortOnCancel {
            completions: Arc::downgrade(&self),
            id,
            cancel: call.cancel.clone(),
        }));
        let mut cancelled = std::pin::pin!(call.cancel.cancelled());
        if cancelled
            .as_mut()
            .poll(&mut Context::from_waker(&abort))
            .is_ready()
        {
            abort.wake_by_ref();
        }
        rx.await.unwrap_or_else(|_| {
            Err(HostError::new(
                HostError::UNREACHABLE,
                "the JavaScript function could not be called (its client is gone)",
            ))
        })
    }

    /// The core's id (`HostCall::id`) of host call `call`, while JS runs it: what a
    /// getOrSet made from inside a loader names, so the core can refuse a loader asking for
    /// its own key (`dispatch.js` knows the call by an AsyncLocalStorage).
    pub fn load_of(&self, call: u32) -> Option<u64> {
        lock(&self.calls).get(&call).map(|(_, id)| *id)
    }

    /// JS finished host call `id`: its caller goes on at once.
    pub fn settle_call(&self, id: u32, result: HostResult) {
        self.settle_calls([(id, result)]);
    }

    /// JS finished these host calls: their callers go on at once, polled in one pass, so
    /// what they do next sees them all (a worker's finish task sends every end in one
    /// round trip, not the first alone and the rest after its reply).
    pub fn settle_calls(&self, results: impl IntoIterator<Item = (u32, HostResult)>) {
        self.executor.drive(|| {
            for (id, result) in results {
                let reply = lock(&self.calls).remove(&id).map(|(reply, _)| reply);
                // The caller may be gone (cancelled, its client dropped): nothing to tell.
                if let Some(reply) = reply {
                    drop(reply.send(result));
                }
            }
        });
    }
}

/// Asks JS to abort a host call's signal, if JS is still running the call.
struct AbortOnCancel {
    completions: Weak<Completions>,
    id: u32,
    /// The call's signal: its reason goes with the abort.
    cancel: redkit::Cancel,
}

impl std::task::Wake for AbortOnCancel {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(completions) = self.completions.upgrade() {
            if lock(&completions.calls).contains_key(&self.id) {
                let reason = self.cancel.reason().map(str::to_string);
                completions.push(self.id, Outcome::Abort(reason));
            }
        }
    }
}

/// The tag and the value JS receives for `outcome`; a Buffer or string that cannot be made
/// (out of memory) fails the operation instead.
fn slot(env: &Env, outcome: Outcome) -> (u32, Slot<'_>) {
    match outcome {
        Outcome::Unit => (TAG_OK, Either7::B(())),
        Outcome::Null => (TAG_OK, Either7::C(Null)),
        Outcome::Ascii(b) => match env.create_string_latin1(&b) {
            Ok(string) => (TAG_OK, Either7::G(string)),
            Err(e) => (TAG_ERR, Either7::F(e)),
        },
        Outcome::Text(s) => (TAG_OK, Either7::D(s)),
        Outcome::Utf16(units) => match env.create_string_utf16(units) {
            Ok(string) => (TAG_OK, Either7::G(string)),
            Err(e) => (TAG_ERR, Either7::F(e)),
        },
        // Small values cross as latin1 text (one char per byte, lossless) that redkit.js
        // copies into a Buffer from Node's pool: a Buffer made here costs a backing store
        // of its own, allocated, tracked and swept, which cost more than the whole GET.
        Outcome::Bytes(b) if b.len() < POOLED_BYTES => match env.create_string_latin1(&b) {
            Ok(string) => (TAG_OK, Either7::G(string)),
            Err(e) => (TAG_ERR, Either7::F(e)),
        },
        Outcome::Bytes(b) => match BufferSlice::copy_from(env, b) {
            Ok(buffer) => (TAG_OK, Either7::E(buffer)),
            Err(e) => (TAG_ERR, Either7::F(e)),
        },
        Outcome::Count(n) => (TAG_OK, Either7::A(n)),
        Outcome::Failed(e) => (TAG_ERR, Either7::F(e)),
        Outcome::Call(target, arg) => {
            let tag = TAG_CALL | target.word() << 2;
            match slot(env, Outcome::Bytes(arg)) {
                (TAG_OK, value) => (tag, value),
                failed => failed,
            }
        }
        Outcome::CallText(target, text) => (TAG_CALL | target.word() << 2, Either7::D(text)),
        Outcome::Abort(None) => (TAG_ABORT, Either7::B(())),
        Outcome::Abort(Some(reason)) => (TAG_ABORT, Either7::D(reason)),
    }
}

/// A lock that a panic elsewhere does not poison for good.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("redkit panicked (a bug, please report it): {text}")
}
