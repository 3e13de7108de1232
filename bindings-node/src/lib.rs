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
pub mod events;
pub mod executor;
pub mod functions;
pub mod host;
pub mod http;
pub mod links;
pub mod options;
pub mod queue;
pub mod ratelimit;
pub mod replay;
pub mod worker;

use std::sync::OnceLock;

/// The addon's own allocations (the process's other code keeps its malloc). A busy worker
/// parses replies into many small buffers and frees them together, which glibc's malloc
/// serves slowly, most of its time refilling its per-size caches; what mimalloc saves per
/// job is in bench/results/node-queue.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

static RUNTIME: OnceLock<tokio::runtime::Handle> = OnceLock::new();

/// The tokio runtime behind the core's timers and the blocking-command connection
/// (operations themselves run on the JS thread, see `executor.rs`): one worker, as it
/// only ever wakes for timers.
#[napi_derive::module_init]
fn init() {
    // Every panic here is caught and becomes a JS error carrying its message (napi's
    // catch_unwind, the trampolines of functions.rs, the operations of completion.rs,
    // tokio's tasks); the default hook would also print it, with a backtrace under
    // RUST_BACKTRACE, to a stderr that belongs to the application.
    std::panic::set_hook(Box::new(|_| {}));
    if let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        let _ = RUNTIME.set(rt.handle().clone());
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}

/// The runtime `init` made.
fn runtime() -> napi::Result<tokio::runtime::Handle> {
    RUNTIME
        .get()
        .cloned()
        .ok_or_else(|| napi::Error::from_reason("redkit could not start its tokio runtime"))
}
