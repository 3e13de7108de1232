//! How awaitables complete: results travel back to the asyncio event loop through a
//! per-loop queue and a socket pair the loop watches (`loop.add_reader`).
//!
//! A finished Rust task pushes its outcome and, if the queue was empty, writes one byte;
//! the loop thread wakes, drains the queue and resolves the futures. No tokio thread
//! ever waits for the GIL (a busy loop holds it for up to the 5 ms switch interval), and
//! many results that finish together cost one wake-up. This is the asyncio hit path.
//!
//! The same queue carries work the other way: a call of an async host function (see
//! `host.rs`) is a job the loop thread runs when it drains, so starting it takes the GIL
//! on the loop's own thread, never on a tokio thread.
//!
//! A task is polled once on the calling thread first. One that finishes there (a hit
//! from a near cache, a bad argument) resolves its future at once, and awaiting a done
//! future does not even return to the loop: the trip through tokio and the socket pair
//! would cost more than the whole hit.

use std::any::Any;
use std::future::Future;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_util::FutureExt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::IntoPyObjectExt;

use crate::errors::{internal_error, panic_message, to_py};
use crate::runtime::{poll_first, runtime};

/// Turns a task's output into the Python result, on the loop thread (it needs the GIL).
pub type Outcome = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// Work for the loop thread, run with the GIL when the loop drains.
pub type Job = Box<dyn FnOnce(Python<'_>) + Send>;

/// What the loop thread does when it drains.
enum Done {
    /// Resolve this asyncio future with the outcome.
    Settle(Py<PyAny>, Outcome),
    /// Run this.
    Run(Job),
}

pub struct Inner {
    wake_rx: UnixStream,
    wake_tx: UnixStream,
    done: Mutex<Vec<Done>>,
}

impl Inner {
    /// Resolve `future` with `outcome` on the loop thread.
    pub fn complete(&self, future: Py<PyAny>, outcome: Outcome) {
        self.push(Done::Settle(future, outcome));
    }

    /// Run `job` on the loop thread.
    pub fn run(&self, job: Job) {
        self.push(Done::Run(job));
    }

    fn push(&self, entry: Done) {
        let was_empty = {
            let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
            done.push(entry);
            done.len() == 1
        };
        if was_empty {
            // Non-blocking: if the socket buffer is full, a wake-up is already pending.
            let _ = (&self.wake_tx).write(&[1]);
        }
    }
}

/// One event loop's completion queue. Made by `redkit.asyncio` once per loop, which
/// registers `drain` with `loop.add_reader(bridge.fileno(), bridge.drain)`.
#[pyclass(frozen, module = "redkit._redkit")]
pub struct LoopBridge {
    inner: Arc<Inner>,
}

impl LoopBridge {
    /// The queue of this loop, to hand work and results to it from any thread.
    pub fn queue(&self) -> &Arc<Inner> {
        &self.inner
    }
}

#[pymethods]
impl LoopBridge {
    #[new]
    fn new() -> PyResult<Self> {
        let (wake_rx, wake_tx) = UnixStream::pair()?;
        wake_rx.set_nonblocking(true)?;
        wake_tx.set_nonblocking(true)?;
        Ok(LoopBridge {
            inner: Arc::new(Inner {
                wake_rx,
                wake_tx,
                done: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The descriptor the loop watches.
    fn fileno(&self) -> i32 {
        self.inner.wake_rx.as_raw_fd()
    }

    /// Resolve every finished future (called by the loop when `fileno()` is readable).
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        let mut sink = [0u8; 64];
        // Empty the socket before taking the queue, so a push after the take always
        // leaves a byte behind.
        while matches!((&self.inner.wake_rx).read(&mut sink), Ok(n) if n > 0) {}
        let done = std::mem::take(&mut *self.inner.done.lock().unwrap_or_else(|p| p.into_inner()));
        for entry in done {
            let (future, outcome) = match entry {
                Done::Settle(future, outcome) => (future, outcome),
                Done::Run(job) => {
                    job(py);
                    continue;
                }
            };
            let future = future.bind(py);
            if future
                .call_method0(pyo3::intern!(py, "done"))?
                .is_truthy()?
            {
                continue; // cancelled meanwhile
            }
            match outcome(py) {
                Ok(value) => future.call_method1(pyo3::intern!(py, "set_result"), (value,))?,
                Err(err) => future
                    .call_method1(pyo3::intern!(py, "set_exception"), (err.into_value(py),))?,
            };
        }
        Ok(())
    }
}

static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An asyncio future of the running loop that `fut`, run on redkit's runtime, resolves.
/// Errors and panics become exceptions on the loop thread, never on a tokio thread.
pub fn spawn<'py, T, F>(py: Python<'py>, bridge: &LoopBridge, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = redkit::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let future = running_loop_future(py)?;
    let mut task = Box::pin(AssertUnwindSafe(fut).catch_unwind());
    if let Poll::Ready(result) = poll_first(task.as_mut()) {
        match outcome(result)(py) {
            Ok(value) => future.call_method1(pyo3::intern!(py, "set_result"), (value,))?,
            Err(err) => {
                future.call_method1(pyo3::intern!(py, "set_exception"), (err.into_value(py),))?
            }
        };
        return Ok(future);
    }
    let handle = future.clone().unbind();
    let inner = Arc::clone(&bridge.inner);
    runtime().spawn(async move {
        inner.complete(handle, outcome(task.await));
    });
    Ok(future)
}

/// A new asyncio future of the running loop.
pub fn running_loop_future(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let get_loop = GET_RUNNING_LOOP.get_or_try_init(py, || {
        py.import("asyncio")
            .and_then(|m| m.getattr("get_running_loop"))
            .map(Bound::unbind)
    })?;
    get_loop
        .bind(py)
        .call0()?
        .call_method0(pyo3::intern!(py, "create_future"))
}

/// How a task ended, as the loop thread will turn it into a result or an exception.
fn outcome<T>(result: Result<redkit::Result<T>, Box<dyn Any + Send>>) -> Outcome
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    match result {
        Ok(Ok(value)) => Box::new(move |py| value.into_py_any(py)),
        Ok(Err(err)) => Box::new(move |_| Err(to_py(err))),
        Err(panic) => {
            let message = panic_message(&*panic);
            Box::new(move |_| Err(internal_error(message)))
        }
    }
}
