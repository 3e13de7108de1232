//! The Node.js binding of redkit: the native half of the npm package `redkit`.
//!
//! Thin by design: every method converts its arguments, calls the core and maps the error.
//! Values cross the boundary already encoded (JSON text or raw bytes); the JavaScript files
//! next to this crate (`redkit.js`, `dispatch.js`, `errors.js`, `wrap.js`) encode values,
//! settle promises from the completion queue (`completion.rs`), turn error codes into
//! `Error` subclasses and add `cache.wrap`. The classes here are exported as
//! `NativeClient` / `NativeCache` / `NativeRateLimiter` and are not meant to be used directly.

pub mod cache;
pub mod client;
pub mod completion;
pub mod errors;
pub mod options;
pub mod ratelimit;

/// The tokio runtime behind every operation: one worker by default (`REDKIT_NODE_THREADS`
/// to change it). With one worker the operation's task and redis-rs' connection task run
/// on the same thread, so a request costs no hop between tokio workers; the JS thread
/// keeps the other core.
#[napi_derive::module_init]
fn init() {
    let workers = std::env::var("REDKIT_NODE_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1);
    if let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
