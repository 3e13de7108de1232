//! JavaScript functions behind the core's host-callback contract (`redkit::host`): the one
//! way the core calls JS (cache loaders today, queue processors next).
//!
//! A call travels through the client's completion queue (see `completion.rs`): JS runs
//! `fn(arg: Buffer, signal: AbortSignal)` on its own thread and answers with
//! `hostResolved(ids, values)` (every call that returned in one turn, in one native call)
//! or `hostRejected(id, error, name, message, stack)`.

use std::sync::Arc;

use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi_derive::napi;
use redkit::host::{CallReport, Events, HostCall, HostError, HostFunction, HostResult};
use redkit::transport::BoxFuture;

use crate::completion::{Completions, HostTarget, Outcome, Start};
use crate::functions::Made;

/// A JS function as the core calls it.
pub struct JsHost {
    completions: Arc<Completions>,
    target: HostTarget,
    /// The function takes its argument as a string (registered so in `dispatch.js`).
    text: bool,
}

impl JsHost {
    /// The function `target` of the client whose queue is `completions`.
    pub fn new(completions: Arc<Completions>, target: HostTarget) -> Self {
        JsHost {
            completions,
            target,
            text: false,
        }
    }

    /// The same, for a function JS registered to take text (`register(fn, true)`): each
    /// call's argument must be UTF-8, and reaches JS as a string.
    pub fn text(completions: Arc<Completions>, target: HostTarget) -> Self {
        JsHost {
            text: true,
            ..JsHost::new(completions, target)
        }
    }
}

impl HostFunction for JsHost {
    fn call(&self, call: HostCall) -> BoxFuture<'static, HostResult> {
        Box::pin(Arc::clone(&self.completions).call_host(self.target, call, self.text))
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

/// Reports of host calls as they end, read off the core's event stream
/// (`client.__runManyForTests` iterates it): each `next(op)` is an operation that resolves
/// to the next report as JSON text (`{ index, cancelled, value?, error?: { kind, message,
/// trace } }`), or `null` once every call has reported.
#[napi]
pub struct NativeReports {
    events: Arc<tokio::sync::Mutex<Events<CallReport>>>,
    completions: Arc<Completions>,
}

impl NativeReports {
    /// The stream `events`, read through the queue of `completions`.
    pub fn new(events: Events<CallReport>, completions: Arc<Completions>) -> Self {
        NativeReports {
            events: Arc::new(tokio::sync::Mutex::new(events)),
            completions,
        }
    }
}

#[napi]
impl NativeReports {
    /// Operation `op` (a `Start` word) resolves to the next report, or `null`.
    #[napi(catch_unwind, ts_return_type = "unknown")]
    pub fn next(&self, env: &Env, op: u32) -> napi::Result<Made> {
        let events = Arc::clone(&self.events);
        self.completions
            .start(env, Start::from_word(op), async move {
                Ok(match events.lock().await.recv().await {
                    Some(r) => Outcome::Text(report_json(r)),
                    None => Outcome::Null,
                })
            })
    }
}

/// One report as JSON text.
fn report_json(r: CallReport) -> String {
    let mut report = serde_json::json!({ "index": r.index, "cancelled": r.cancelled });
    match r.result {
        Ok(v) => report["value"] = String::from_utf8_lossy(&v).into(),
        Err(e) => {
            report["error"] = serde_json::json!({
                "kind": e.kind(), "message": e.message(), "trace": e.trace(),
            })
        }
    }
    report.to_string()
}
