//! The tokio runtime behind every call, made fork-safe, and blocking calls on it
//! (`block_on` with the GIL released). Awaitables are in `bridge.rs`.
//!
//! After `fork()` the child has the parent's memory but none of its threads, so the
//! parent's runtime (and every connection driven by it) is dead there. The runtime is
//! therefore keyed by process id: a child builds its own on first use. The parent's is
//! leaked in the child on purpose: dropping it would try to join threads that do not exist.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors::{internal_error, panic_message, to_py};

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// This process' runtime, built on first use in each process.
pub fn runtime() -> Arc<Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    match slot.as_ref() {
        Some((owner, rt)) if *owner == pid => Arc::clone(rt),
        _ => {
            if let Some(inherited) = slot.take() {
                // A runtime from the parent process: its threads are gone; never drop it.
                std::mem::forget(inherited);
            }
            let rt = Arc::new(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(worker_threads())
                    .thread_name("redkit")
                    .enable_all()
                    .build()
                    .expect("cannot start the tokio runtime"),
            );
            *slot = Some((pid, Arc::clone(&rt)));
            rt
        }
    }
}

/// Threads that drive redkit's I/O: `REDKIT_WORKER_THREADS`, default 2 (one multiplexed
/// connection needs little; more threads mostly add cross-thread wake-ups).
fn worker_threads() -> usize {
    std::env::var("REDKIT_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2)
}

/// Called from `os.register_at_fork(after_in_child=...)`: drop the inherited runtime
/// handle now rather than on the first call (the pid check alone would also catch it).
pub fn after_fork_in_child() {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if matches!(slot.as_ref(), Some((owner, _)) if *owner != pid) {
        std::mem::forget(slot.take());
    }
    redkit::rt::reseed_after_fork();
}

/// Run a core future to completion on this thread with the GIL released, turning a
/// redkit error into its exception and a panic into a `RedkitError`.
pub fn block_on<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = redkit::Result<T>> + Send,
    T: Send,
{
    let mut fut = Box::pin(fut);
    // A call that can finish at once (a near-cache hit, bad input) does, without letting
    // go of the GIL and taking it back.
    let first = std::panic::catch_unwind(AssertUnwindSafe(|| poll_first(fut.as_mut())));
    let outcome = first.and_then(|first| match first {
        Poll::Ready(result) => Ok(result),
        Poll::Pending => {
            // Taken while this thread holds the GIL, like every other use of RUNTIME's
            // lock: a fork (which happens under the GIL) can then never copy that lock in
            // a held state.
            let rt = runtime();
            py.detach(|| {
                std::panic::catch_unwind(AssertUnwindSafe(|| {
                    if tokio::runtime::Handle::try_current().is_ok() {
                        // A loader calling the blocking client: this thread is already
                        // inside `block_on`, which tokio does not nest. Park instead; the
                        // runtime's workers drive the I/O and timers meanwhile.
                        park_on(fut)
                    } else {
                        rt.block_on(fut)
                    }
                }))
            })
        }
    });
    match outcome {
        Ok(result) => result.map_err(to_py),
        Err(panic) => Err(internal_error(panic_message(&*panic))),
    }
}

/// Poll a future once on this thread, inside the runtime (the core's timers and sockets
/// need it). A future that is not done yet is polled again by whoever runs it next, with
/// the waker that counts.
pub fn poll_first<F: Future + ?Sized>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let _runtime = runtime().enter();
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Poll `fut` on this thread, parking between wake-ups.
fn park_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
