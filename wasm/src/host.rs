//! The JS side this module runs on: a tiny executor driven by the facade, a bridge from JS
//! promises to Rust futures, and JS functions as the core's host functions ([`JsHost`]).
//!
//! Why not wasm-bindgen-futures: on wasm32-unknown-unknown a panic aborts (traps) the
//! instance. Its executor polls from a `queueMicrotask` callback and its promise bridge
//! from `then` callbacks, so a trap there escapes as an uncaught exception (which ends a
//! Node process) and the operation's promise never settles. Here every entry into the
//! module — polling a task, waking a promise slot — is a call the facade makes inside
//! `try`, so a panic becomes a rejected promise and the facade re-instantiates the module
//! (see js/runtime.js).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use redkit::host::{HostCall, HostError, HostFunction, HostResult};
use redkit::transport::BoxFuture;
use wasm_bindgen::prelude::*;

use crate::convert::bytes_from_js;
use crate::errors::{message_of, name_of, JsLoaderError};

#[wasm_bindgen]
extern "C" {
    /// The facade's runtime object (js/runtime.js `host`).
    pub type Host;
    #[wasm_bindgen(method)]
    fn schedule(this: &Host, task: u32);
    #[wasm_bindgen(method)]
    fn settle(this: &Host, task: u32, ok: bool, value: JsValue);
    #[wasm_bindgen(method)]
    fn track(this: &Host, promise: JsValue) -> u32;
    #[wasm_bindgen(method)]
    fn take(this: &Host, slot: u32) -> JsValue;
    #[wasm_bindgen(method)]
    fn forget(this: &Host, slot: u32);
    #[wasm_bindgen(method, js_name = callHost)]
    fn call_host(this: &Host, func: &js_sys::Function, arg: &[u8], id: f64) -> u32;
    #[wasm_bindgen(method)]
    fn abort(this: &Host, slot: u32);
    #[wasm_bindgen(method)]
    fn sleep(this: &Host, ms: f64) -> JsValue;
    #[wasm_bindgen(method)]
    fn panicked(this: &Host, message: &str);
}

type Task = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
    static TASKS: RefCell<HashMap<u32, Task>> = RefCell::new(HashMap::new());
    static NEXT_TASK: Cell<u32> = const { Cell::new(1) };
    static WAKERS: RefCell<HashMap<u32, Waker>> = RefCell::new(HashMap::new());
}

/// Called by the facade after (re)instantiating the module.
#[wasm_bindgen]
pub fn install_host(host: Host) {
    HOST.with(|h| *h.borrow_mut() = Some(host));
    // The core's own waits (the cache's lock wait) use this module's timer too.
    redkit::rt::set_wasm_sleep(|d| Box::pin(sleep(d)));
    std::panic::set_hook(Box::new(|info| {
        // Tell the facade why the module is about to trap, then let the trap happen: the
        // facade rejects the affected promises with this message and re-instantiates.
        let message = info.to_string();
        let _ = HOST.try_with(|h| {
            if let Ok(h) = h.try_borrow() {
                if let Some(h) = h.as_ref() {
                    h.panicked(&message);
                }
            }
        });
        wasm_bindgen::handler::schedule_reinit();
    }));
}

fn with_host<R>(f: impl FnOnce(&Host) -> R) -> R {
    HOST.with(|h| {
        f(h.borrow()
            .as_ref()
            .expect("install_host runs before any call"))
    })
}

/// Start `fut` as a task; the facade turns the returned id into a Promise that settles
/// with the task's result.
pub fn spawn(fut: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> u32 {
    let id = NEXT_TASK.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1).max(1));
        id
    });
    TASKS.with(|t| t.borrow_mut().insert(id, Box::pin(fut)));
    with_host(|h| h.schedule(id));
    id
}

struct TaskWaker(u32);

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        with_host(|h| h.schedule(self.0));
    }
}

/// Poll task `id` once (the facade calls this from a microtask).
#[wasm_bindgen]
pub fn poll_task(id: u32) {
    // Taken out while polling, so a wake or a spawn during the poll finds the map free.
    let Some(mut fut) = TASKS.with(|t| t.borrow_mut().remove(&id)) else {
        return; // already finished: a late wake
    };
    let waker = Waker::from(Arc::new(TaskWaker(id)));
    match fut.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(Ok(v)) => with_host(|h| h.settle(id, true, v)),
        Poll::Ready(Err(e)) => with_host(|h| h.settle(id, false, e)),
        Poll::Pending => {
            TASKS.with(|t| t.borrow_mut().insert(id, fut));
        }
    }
}

/// The facade saw promise slot `slot` settle.
#[wasm_bindgen]
pub fn wake_slot(slot: u32) {
    if let Some(w) = WAKERS.with(|w| w.borrow_mut().remove(&slot)) {
        w.wake();
    }
}

/// A JS promise as a Rust future, settled through the facade (no wasm closures). Dropped
/// before it settles, it tells the facade to forget the promise (and to abort the signal
/// of a host call's, see [`JsHost`]).
pub struct HostPromise {
    slot: u32,
    done: bool,
}

impl HostPromise {
    /// Await `promise` (any thenable or plain value).
    pub fn new(promise: JsValue) -> Self {
        HostPromise {
            slot: with_host(|h| h.track(promise)),
            done: false,
        }
    }
}

impl HostPromise {
    /// Abort the signal of the host call this promise is the result of.
    fn abort(&self) {
        with_host(|h| h.abort(self.slot));
    }
}

impl Future for HostPromise {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let settled = with_host(|h| h.take(self.slot));
        if settled.is_undefined() {
            WAKERS.with(|w| w.borrow_mut().insert(self.slot, cx.waker().clone()));
            return Poll::Pending;
        }
        self.done = true;
        let pair = js_sys::Array::from(&settled);
        let ok = pair.get(0).is_truthy();
        let value = pair.get(1);
        Poll::Ready(if ok { Ok(value) } else { Err(value) })
    }
}

impl Drop for HostPromise {
    fn drop(&mut self) {
        WAKERS.with(|w| w.borrow_mut().remove(&self.slot));
        if !self.done {
            with_host(|h| h.forget(self.slot));
        }
    }
}

/// A JS function behind the core's host-callback contract (`redkit::host`): the facade
/// calls `fn(arg: Uint8Array, signal: AbortSignal, id: number)` (js/runtime.js `callHost`) and the
/// call's cancellation aborts the signal. The result is a string (its UTF-8 bytes) or
/// bytes; what the function throws keeps its name, message and stack, and the thrown value
/// itself for the caller.
pub struct JsHost(js_sys::Function);

impl JsHost {
    /// The host function `func`.
    pub fn new(func: js_sys::Function) -> Self {
        JsHost(func)
    }
}

impl HostFunction for JsHost {
    fn call(&self, call: HostCall) -> BoxFuture<'static, HostResult> {
        // The id is a count of calls: a whole number JS holds exactly for the process's life.
        let slot = with_host(|h| h.call_host(&self.0, &call.arg, call.id as f64));
        let mut pending = HostPromise { slot, done: false };
        Box::pin(async move {
            let settled = {
                let cancelled = std::pin::pin!(call.cancel.cancelled());
                match futures_util::future::select(&mut pending, cancelled).await {
                    futures_util::future::Either::Left((settled, _)) => Some(settled),
                    futures_util::future::Either::Right(_) => None,
                }
            };
            let settled = match settled {
                Some(settled) => settled,
                None => {
                    pending.abort();
                    (&mut pending).await
                }
            };
            match settled {
                Ok(value) => bytes_from_js(&value, "a host function's result")
                    .map_err(|e| HostError::new("TypeError", message_of(&e))),
                Err(thrown) => Err(host_error(thrown)),
            }
        })
    }
}

/// What a JS function threw, as the core keeps it.
fn host_error(thrown: JsValue) -> HostError {
    let name = match name_of(&thrown) {
        name if name.is_empty() => "Error".to_string(),
        name => name,
    };
    let stack = js_sys::Reflect::get(&thrown, &"stack".into())
        .ok()
        .and_then(|s| s.as_string());
    let error = HostError::new(name, message_of(&thrown));
    let error = match stack {
        Some(stack) => error.with_trace(stack),
        None => error,
    };
    error.with_original(JsLoaderError::new(thrown))
}

/// Test hook: call `func` `calls` times, `concurrency` at a time, aborting the signal of
/// every `cancel_every`-th call (0: none) `cancel_after_ms` after it starts (see
/// `redkit::host::run_many`), in the background; the reports come as calls end, from the
/// returned stream.
#[wasm_bindgen]
pub fn debug_run_many(
    func: js_sys::Function,
    calls: u32,
    concurrency: u32,
    cancel_every: u32,
    cancel_after_ms: u32,
) -> WasmReports {
    let host = JsHost::new(func);
    let plan = (0..calls)
        .map(|i| redkit::host::Planned {
            arg: i.to_string().into_bytes(),
            cancel_after: (cancel_every > 0 && i % cancel_every == 0)
                .then(|| Duration::from_millis(cancel_after_ms.into())),
        })
        .collect();
    let (tx, events) = redkit::host::events();
    spawn(async move {
        redkit::host::run_many(&host, plan, concurrency as usize, &tx).await;
        Ok(JsValue::UNDEFINED)
    });
    WasmReports(Rc::new(RefCell::new(Some(events))))
}

/// Reports of host calls as they end, read off the core's event stream: each `next()` is a
/// task that resolves to the next report as JSON text (`{ index, cancelled, value?,
/// error?: { kind, message, trace } }`), or `null` once every call has reported.
#[wasm_bindgen]
pub struct WasmReports(Rc<RefCell<Option<redkit::host::Events<redkit::host::CallReport>>>>);

#[wasm_bindgen]
impl WasmReports {
    /// A task resolving to the next report, or `null`.
    pub fn next(&self) -> u32 {
        let events = Rc::clone(&self.0);
        spawn(async move {
            // Taken out while waiting (one reader at a time), put back after.
            let Some(mut stream) = events.borrow_mut().take() else {
                return Err(crate::errors::invalid(
                    "next() called again before the last one settled",
                ));
            };
            let report = stream.recv().await;
            *events.borrow_mut() = Some(stream);
            Ok(match report {
                Some(r) => JsValue::from_str(&report_json(r)),
                None => JsValue::NULL,
            })
        })
    }
}

/// One report as JSON text.
fn report_json(r: redkit::host::CallReport) -> String {
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

/// Wait `d` on a JS timer, disarmed if the wait is dropped first (a deadline raced
/// against a request that answered): an armed timer keeps a Node process alive.
pub async fn sleep(d: Duration) {
    let promise = with_host(|h| h.sleep(d.as_millis() as f64));
    let _disarm = Disarm(promise.clone());
    let _ = HostPromise::new(promise).await;
}

/// Calls the timer promise's `cancel` when dropped (harmless once the timer fired).
struct Disarm(JsValue);

impl Drop for Disarm {
    fn drop(&mut self) {
        if let Ok(cancel) = js_sys::Reflect::get(&self.0, &JsValue::from_str("cancel")) {
            if let Some(cancel) = cancel.dyn_ref::<js_sys::Function>() {
                let _ = cancel.call0(&self.0);
            }
        }
    }
}

/// Test hook: panic now (`in_task` false) or inside a task (true), so the suite can prove
/// that a panic becomes an error and the module keeps working.
#[wasm_bindgen]
pub fn debug_panic(in_task: bool) -> u32 {
    if in_task {
        spawn(async { panic!("deliberate panic inside a task (test hook)") })
    } else {
        panic!("deliberate panic in a call (test hook)")
    }
}
