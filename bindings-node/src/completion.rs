//! Settling many JavaScript promises with one wake-up of the JS thread.
//!
//! napi-rs' `async fn` creates a threadsafe function (a libuv handle) for every promise,
//! which made a cache hit several times slower than a plain ioredis GET. Cache and rate
//! limit operations instead take an operation id from `redkit.js`, run on the client's
//! executor (on the JS thread, see `executor.rs`), and push their outcome into one queue
//! per client. JS takes every finished outcome in one call after each native call that can
//! finish operations, and settles the matching promises.
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
use napi::bindgen_prelude::{BufferSlice, Either7, Null};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi::{Env, JsString};
use redkit::transport::hosted::HostedTransport;
use redkit::Error;
use tokio::sync::oneshot;

use crate::errors::to_js;
use crate::executor::Executor;

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

/// Tags of the flat `[output, id, tag, value, ...]` array `take` hands to JS.
const TAG_OK: u32 = 0;
const TAG_ERR: u32 = 1;
const TAG_LOAD: u32 = 2;

/// One element of the flat array handed to JS. Bytes cross as copies: a copy of a small
/// buffer costs less than the finalizer an external (zero-copy) buffer needs. The output
/// for the socket crosses as a latin1 string (one char per byte, lossless), which the
/// socket writes without allocating a Buffer.
pub type Slot<'env> =
    Either7<u32, (), Null, String, BufferSlice<'env>, napi::Error, JsString<'env>>;

type LoaderReply = oneshot::Sender<redkit::Result<Vec<u8>>>;

/// The outcome queue of one client.
pub struct Completions {
    ready: Mutex<Vec<(u32, Outcome)>>,
    loaders: Mutex<HashMap<u32, LoaderReply>>,
    executor: Arc<Executor>,
}

impl Completions {
    /// A queue for the operations `executor` runs.
    pub fn new(executor: Arc<Executor>) -> Arc<Self> {
        Arc::new(Completions {
            ready: Mutex::new(Vec::new()),
            loaders: Mutex::new(HashMap::new()),
            executor,
        })
    }

    /// The executor the operations run on.
    pub fn executor(&self) -> &Arc<Executor> {
        &self.executor
    }

    fn push(&self, id: u32, outcome: Outcome) {
        self.ready
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, outcome));
    }

    /// Run operation `id` on the executor and queue its outcome. A panic in the operation
    /// becomes its error, never an abort.
    pub fn run<F>(self: &Arc<Self>, id: u32, op: F)
    where
        F: Future<Output = redkit::Result<Outcome>> + Send + 'static,
    {
        let this = Arc::clone(self);
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
    }

    /// What JS must do now, as one flat array: first the bytes to write (`output`, or
    /// `null`), then every finished operation as `id, tag, value` (tag 0 value, 1 error,
    /// 2 run the loader). One array, so a turn of the event loop costs one native call.
    pub fn take<'env>(
        &self,
        env: &'env Env,
        link: Option<&HostedTransport>,
    ) -> napi::Result<Vec<Slot<'env>>> {
        let output =
            link.and_then(|link| link.drain_output(|bytes| env.create_string_latin1(bytes)));
        let ready = std::mem::take(&mut *self.ready.lock().unwrap_or_else(|p| p.into_inner()));
        let mut flat = Vec::with_capacity(1 + ready.len() * 3);
        flat.push(match output {
            Some(text) => Either7::G(text?),
            None => Either7::C(Null),
        });
        for (id, outcome) in ready {
            flat.push(Either7::A(id));
            let (tag, value) = match outcome {
                Outcome::Unit => (TAG_OK, Either7::B(())),
                Outcome::Null => (TAG_OK, Either7::C(Null)),
                Outcome::Text(s) => (TAG_OK, Either7::D(s)),
                Outcome::Bytes(b) => (TAG_OK, Either7::E(BufferSlice::copy_from(env, b)?)),
                Outcome::Count(n) => (TAG_OK, Either7::A(n)),
                Outcome::Failed(e) => (TAG_ERR, Either7::F(e)),
                Outcome::Load => (TAG_LOAD, Either7::B(())),
            };
            flat.push(Either7::A(tag));
            flat.push(value);
        }
        Ok(flat)
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

    /// JS finished running the loader of operation `id`: its operation goes on at once.
    pub fn settle_loader(&self, id: u32, result: redkit::Result<Vec<u8>>) {
        let reply = self
            .loaders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        if let Some(reply) = reply {
            // The operation may be gone (its client dropped): nothing left to tell.
            self.executor.drive(|| drop(reply.send(result)));
        }
    }
}

pub(crate) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("redkit panicked (a bug, please report it): {text}")
}
