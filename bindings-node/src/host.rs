//! JavaScript functions behind the core's host-callback contract (`redkit::host`): the one
//! way the core calls JS (cache loaders today, queue processors next).
//!
//! A call travels through the client's completion queue (see `completion.rs`): JS runs
//! `fn(arg: Buffer, signal: AbortSignal)` on its own thread and answers with
//! `hostResolved(id, value)` or `hostRejected(id, error, name, message, stack)`.

use std::sync::Arc;

use napi::bindgen_prelude::Unknown;
use redkit::host::{HostCall, HostError, HostFunction, HostResult};
use redkit::transport::BoxFuture;

use crate::completion::{Completions, HostTarget};

/// A JS function as the core calls it.
pub struct JsHost {
    completions: Arc<Completions>,
    target: HostTarget,
}

impl JsHost {
    /// The function `target` of the client whose queue is `completions`.
    pub fn new(completions: Arc<Completions>, target: HostTarget) -> Self {
        JsHost {
            completions,
            target,
        }
    }
}

impl HostFunction for JsHost {
    fn call(&self, call: HostCall) -> BoxFuture<'static, HostResult> {
        Box::pin(Arc::clone(&self.completions).call_host(self.target, call))
    }
}

/// What a JS function threw: its name, message and stack (read by JS, which knows how),
/// and the thrown value itself, handed back as it was to whoever rethrows it.
pub fn host_error(
    thrown: Unknown,
    name: String,
    message: String,
    stack: Option<String>,
) -> HostError {
    let error = HostError::new(name, message);
    let error = match stack {
        Some(stack) => error.with_trace(stack),
        None => error,
    };
    error.with_original(napi::Error::from(thrown))
}
