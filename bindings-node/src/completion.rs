//! Settling many JavaScript promises with one wake-up of the JS thread.
//!
//! napi-rs' `async fn` creates a threadsafe function (a libuv handle) for every promise,
//! which made a cache hit several times slower than a plain ioredis GET. Cache operations
//! instead take an operation id from `redkit.js`, run on the tokio runtime, and push their
//! outcome into one queue per client. The first push into an empty queue wakes the JS
//! thread through the client's single threadsafe function; JS then takes every finished
//! outcome in one call and settles the matching promises.
//!
//! Loaders go the same way in reverse: a miss pushes a "load" request for its operation;
//! JS runs the loader and hands the encoded value (or the thrown error) back with
//! `loaderResolved` / `loaderRejected`, which completes a oneshot channel the core's loader
//! future awaits. No threadsafe function is created per call.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use napi::bindgen_prelude::{Buffer, Either6, Null};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use redkit::Error;
use tokio::sync::oneshot;

use crate::errors::to_js;

/// The JS function woken when outcomes are ready: no arguments, called as `wake()`. Weak:
/// an idle client does not keep the process alive (`redkit.js` holds a ref'd timer while
/// operations are in flight).
pub type Wake = ThreadsafeFunction<(), (), (), Status, false, true>;

/// What an operation produced.
pub enum Outcome {
    /// `undefined` (writes).
    Unit,
    /// `null` (a miss).
    Null,
    /// JSON text.
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A count (deleted entries).
    Count(u32),
    /// The operation failed.
    Failed(napi::Error),
    /// Not finished: run the operation's loader.
    Load,
}

/// Tags of the flat `[id, tag, value, ...]` array `take` hands to JS.
const TAG_OK: u32 = 0;
const TAG_ERR: u32 = 1;
const TAG_LOAD: u32 = 2;

/// One element of the flat array handed to JS.
pub type Slot = Either6<u32, (), Null, String, Buffer, napi::Error>;

type LoaderReply = oneshot::Sender<redkit::Result<Vec<u8>>>;

/// The outcome queue of one client.
pub struct Completions {
    ready: Mutex<Vec<(u32, Outcome)>>,
    loaders: Mutex<HashMap<u32, LoaderReply>>,
    wake: Wake,
}

impl Completions {
    /// A queue that wakes JS through `wake`.
    pub fn new(wake: Wake) -> Arc<Self> {
        Arc::new(Completions {
            ready: Mutex::new(Vec::new()),
            loaders: Mutex::new(HashMap::new()),
            wake,
        })
    }

    fn push(&self, id: u32, outcome: Outcome) {
        let was_empty = {
            let mut ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
            let was_empty = ready.is_empty();
            ready.push((id, outcome));
            was_empty
        };
        // One wake-up per batch: later pushes ride on the wake already queued.
        if was_empty {
            self.wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    /// Run operation `id` on the tokio runtime and queue its outcome. A panic in the
    /// operation becomes its error, never an abort.
    pub fn run<F>(self: &Arc<Self>, id: u32, op: F)
    where
        F: Future<Output = redkit::Result<Outcome>> + Send + 'static,
    {
        let this = Arc::clone(self);
        napi::bindgen_prelude::spawn(async move {
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
    }

    /// Everything finished so far, as `[id, tag, value, ...]` (tag 0 value, 1 error, 2 load).
    pub fn take(&self) -> Vec<Slot> {
        let ready = std::mem::take(&mut *self.ready.lock().unwrap_or_else(|p| p.into_inner()));
        let mut flat = Vec::with_capacity(ready.len() * 3);
        for (id, outcome) in ready {
            flat.push(Either6::A(id));
            let (tag, value) = match outcome {
                Outcome::Unit => (TAG_OK, Either6::B(())),
                Outcome::Null => (TAG_OK, Either6::C(Null)),
                Outcome::Text(s) => (TAG_OK, Either6::D(s)),
                Outcome::Bytes(b) => (TAG_OK, Either6::E(Buffer::from(b))),
                Outcome::Count(n) => (TAG_OK, Either6::A(n)),
                Outcome::Failed(e) => (TAG_ERR, Either6::F(e)),
                Outcome::Load => (TAG_LOAD, Either6::B(())),
            };
            flat.push(Either6::A(tag));
            flat.push(value);
        }
        flat
    }

    /// The loader of operation `id`, as the core calls it: ask JS to run it, wait for the
    /// encoded value.
    pub async fn load(self: Arc<Self>, id: u32) -> redkit::Result<Vec<u8>> {
        let (tx, rx) = oneshot::channel();
        self.loaders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tx);
        self.push(id, Outcome::Load);
        rx.await.unwrap_or_else(|_| Err(Error::Closed))
    }

    /// JS finished running the loader of operation `id`.
    pub fn settle_loader(&self, id: u32, result: redkit::Result<Vec<u8>>) {
        let reply = self
            .loaders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        if let Some(reply) = reply {
            // The operation may be gone (its client dropped): nothing left to tell.
            let _ = reply.send(result);
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("redkit panicked (a bug, please report it): {text}")
}
