//! Python functions behind the core's host-callback contract (`redkit::host`): the one way
//! the core calls Python (cache loaders today, queue processors next).
//!
//! A function is called as `fn(arg: bytes, cancel: Cancellation)` and returns bytes.
//! - A plain function runs on a thread of this module's own pool (see `pool.rs`), never on
//!   one of the core's I/O threads: the GIL is taken there, and the I/O threads never wait
//!   for it.
//! - A coroutine function is started on the caller's event loop, by the loop thread itself
//!   (a job on its `LoopBridge` queue), inside the context the caller had.
//!
//! While a call runs, its id (`HostCall::id`) is where a `get_or_set` made from inside it
//! can find it: in a thread-local of the pool thread ([`current_call`]) for a plain
//! function, in the contextvar `redkit._host.current_call` of its task for a coroutine
//! function. The cache passes it to the core, which refuses a loader asking for its own
//! key, directly or through other loaders on other threads (A → B → A).
//!
//! What a function raises becomes a `HostError` that keeps its type name, message and
//! formatted traceback, and the exception itself for whoever raises it again.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString};
use pyo3::IntoPyObjectExt;
use redkit::host::{Cancel, HostCall, HostError, HostFunction, HostResult};
use redkit::transport::BoxFuture;
use tokio::sync::oneshot;

use crate::bridge::{self, LoopBridge};
use crate::cache::Bytes;
use crate::errors::panic_message;
use crate::pool;

/// A Python function as the core calls it.
pub struct PyHost {
    /// The function until its first call, which moves it into `shared`: a cache hit makes
    /// a `PyHost` and never calls it, and this way it costs no allocation.
    unshared: Mutex<Option<Target>>,
    /// The function, shared with the calls that run it.
    shared: OnceLock<Arc<Target>>,
}

struct Target {
    func: Py<PyAny>,
    place: Place,
}

/// Where a call runs.
enum Place {
    /// On the binding's thread pool (a plain function).
    Pool,
    /// On an event loop (a coroutine function), in `context` (a `contextvars.Context`).
    Loop {
        bridge: Py<LoopBridge>,
        context: Py<PyAny>,
    },
}

impl PyHost {
    /// `func`, a plain function, run on the pool.
    pub fn blocking(func: Py<PyAny>) -> Self {
        PyHost::new(Target {
            func,
            place: Place::Pool,
        })
    }

    /// `func`, a coroutine function, run on the loop of `bridge` (the running one) in a copy
    /// of the current context.
    pub fn on_loop(
        py: Python<'_>,
        func: Py<PyAny>,
        bridge: &Bound<'_, LoopBridge>,
    ) -> PyResult<Self> {
        static COPY_CONTEXT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let copy = COPY_CONTEXT.get_or_try_init(py, || {
            py.import("contextvars")
                .and_then(|m| m.getattr("copy_context"))
                .map(Bound::unbind)
        })?;
        Ok(PyHost::new(Target {
            func,
            place: Place::Loop {
                bridge: bridge.clone().unbind(),
                context: copy.bind(py).call0()?.unbind(),
            },
        }))
    }

    fn new(target: Target) -> Self {
        PyHost {
            unshared: Mutex::new(Some(target)),
            shared: OnceLock::new(),
        }
    }

    /// The function, shared.
    fn target(&self) -> &Arc<Target> {
        self.shared.get_or_init(|| {
            let target = self
                .unshared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            Arc::new(target.expect("a PyHost holds its function until it is shared"))
        })
    }
}

impl HostFunction for PyHost {
    fn call(&self, call: HostCall) -> BoxFuture<'static, HostResult> {
        let (tx, rx) = oneshot::channel();
        let shared = self.target();
        let target = Arc::clone(shared);
        match &shared.place {
            Place::Pool => pool::submit(Box::new(move |py| {
                let _running = Running::enter(call.id);
                let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    run_blocking(py, &target.func, call)
                }));
                let _ = tx.send(result.unwrap_or_else(|p| Err(unreachable(&*p))));
            })),
            Place::Loop { bridge, .. } => bridge.get().queue().run(Box::new(move |py| {
                let Place::Loop { context, .. } = &target.place else {
                    return;
                };
                // If even this fails, `tx` is dropped and the call ends as unreachable.
                let Ok(reply) = Py::new(py, Reply(Mutex::new(Some(tx)))) else {
                    return;
                };
                let started = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    start_on_loop(py, &target.func, context, call, &reply)
                }));
                match started {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => reply.get().send(Err(host_error(py, err))),
                    Err(panic) => reply.get().send(Err(unreachable(&*panic))),
                }
            })),
        }
        Box::pin(async move {
            rx.await.unwrap_or_else(|_| {
                Err(HostError::new(
                    HostError::UNREACHABLE,
                    "the Python function could not be called (its event loop or the interpreter is gone)",
                ))
            })
        })
    }
}

thread_local! {
    /// The id of the call a plain function runs in on this pool thread (see [`current_call`]).
    static CURRENT_CALL: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The id of the host call running on this thread, if this is a pool thread running one:
/// a `get_or_set` made here is made from inside that call.
pub fn current_call() -> Option<u64> {
    CURRENT_CALL.get()
}

/// Makes a call's id [`current_call`] until dropped (even by a panic), then puts the
/// previous one back.
struct Running(Option<u64>);

impl Running {
    fn enter(id: u64) -> Running {
        Running(CURRENT_CALL.replace(Some(id)))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        CURRENT_CALL.set(self.0);
    }
}

/// Call a plain function on this (pool) thread and convert what it gives.
fn run_blocking(py: Python<'_>, func: &Py<PyAny>, call: HostCall) -> HostResult {
    let cancel = Py::new(py, Cancellation(call.cancel)).map_err(|e| host_error(py, e))?;
    let out = func
        .bind(py)
        .call1((PyBytes::new(py, &call.arg), cancel))
        .map_err(|e| host_error(py, e))?;
    result_bytes(py, &out)
}

/// Start a coroutine function on the running loop (this is the loop thread) inside
/// `context`; `reply` hands its outcome to the core when the task is done. An error is
/// what the function raised before it returned an awaitable (or what it returned instead).
fn start_on_loop(
    py: Python<'_>,
    func: &Py<PyAny>,
    context: &Py<PyAny>,
    call: HostCall,
    reply: &Py<Reply>,
) -> PyResult<()> {
    static START: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let start = START.get_or_try_init(py, || {
        py.import("redkit._host")
            .and_then(|m| m.getattr("start_on_loop"))
            .map(Bound::unbind)
    })?;
    let cancel = Py::new(py, Cancellation(call.cancel))?;
    context.bind(py).call_method1(
        pyo3::intern!(py, "run"),
        (
            start,
            func,
            PyBytes::new(py, &call.arg),
            cancel,
            reply.clone_ref(py),
            call.id,
        ),
    )?;
    Ok(())
}

/// Hands an asyncio task's outcome to the core (`task.add_done_callback(reply)`).
#[pyclass(frozen, module = "redkit._redkit")]
pub struct Reply(Mutex<Option<oneshot::Sender<HostResult>>>);

impl Reply {
    fn send(&self, result: HostResult) {
        if let Some(tx) = self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = tx.send(result);
        }
    }
}

#[pymethods]
impl Reply {
    fn __call__(&self, py: Python<'_>, task: &Bound<'_, PyAny>) {
        let result = (|| -> HostResult {
            let cancelled = task
                .call_method0(pyo3::intern!(py, "cancelled"))
                .and_then(|c| c.is_truthy())
                .map_err(|e| host_error(py, e))?;
            if cancelled {
                return Err(HostError::new(
                    "CancelledError",
                    "the task running the function was cancelled",
                ));
            }
            let out = task
                .call_method0(pyo3::intern!(py, "result"))
                .map_err(|e| host_error(py, e))?;
            result_bytes(py, &out)
        })();
        self.send(result);
    }
}

/// The function's result, which must be bytes.
fn result_bytes(py: Python<'_>, out: &Bound<'_, PyAny>) -> HostResult {
    match out.cast::<PyBytes>() {
        Ok(bytes) => Ok(bytes.as_bytes().to_vec()),
        Err(_) => Err(host_error(
            py,
            pyo3::exceptions::PyTypeError::new_err(format!(
                "a host function must return bytes, not {}",
                out.get_type()
                    .name()
                    .map_or_else(|_| "?".into(), |n| n.to_string())
            )),
        )),
    }
}

/// What a Python function raised, as the core keeps it.
pub fn host_error(py: Python<'_>, err: PyErr) -> HostError {
    let kind = err
        .get_type(py)
        .name()
        .map_or_else(|_| "Exception".to_string(), |n| n.to_string());
    let value = err.value(py);
    let message = value
        .str()
        .map_or_else(|_| String::new(), |s| s.to_string());
    let trace = py
        .import("traceback")
        .and_then(|tb| {
            tb.call_method1(
                "format_exception",
                (err.get_type(py), value, err.traceback(py)),
            )
        })
        .and_then(|lines| PyString::new(py, "").call_method1("join", (lines,)))
        .and_then(|text| text.extract::<String>());
    let error = HostError::new(kind, message);
    let error = match trace {
        Ok(trace) => error.with_trace(trace),
        Err(_) => error,
    };
    error.with_original(err)
}

/// The error of a call that panicked in the binding (a bug): the core gets an outcome.
fn unreachable(panic: &(dyn std::any::Any + Send)) -> HostError {
    HostError::new(
        HostError::UNREACHABLE,
        format!("internal error (a bug in redkit): {}", panic_message(panic)),
    )
}

/// The cancellation signal of one call, as a Python function sees it: poll it with
/// `is_set()`, wait for it on a thread with `wait(timeout)`, or on an event loop with
/// `await wait_async()`. Cancellation asks the function to stop; what it then returns or
/// raises is still the call's outcome.
#[pyclass(frozen, name = "Cancellation", module = "redkit._redkit")]
pub struct Cancellation(Cancel);

#[pymethods]
impl Cancellation {
    /// Whether the call was cancelled.
    fn is_set(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Why, once set, when the canceller said: `"Kind: message"` (a worker's job says
    /// `TimeoutError: …` on its timeout, `CancelledError: …` on `queue.cancel(id)`).
    #[getter]
    fn reason(&self) -> Option<String> {
        self.0.reason().map(str::to_string)
    }

    /// Wait (releasing the GIL) until the call is cancelled or `timeout` seconds pass;
    /// whether it was cancelled.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let timeout = match timeout {
            None => None,
            Some(t) if t.is_finite() && t >= 0.0 => Some(Duration::from_secs_f64(t)),
            Some(t) => {
                return Err(crate::errors::to_py(redkit::Error::invalid(format!(
                    "timeout must be a finite number of seconds >= 0, not {t}"
                ))))
            }
        };
        let signal = self.0.clone();
        Ok(py.detach(move || signal.wait_blocking(timeout)))
    }

    /// An awaitable of the running loop that resolves to True once the call is cancelled.
    fn wait_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        static BRIDGE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let bridge = BRIDGE
            .get_or_try_init(py, || {
                py.import("redkit.asyncio")
                    .and_then(|m| m.getattr("_bridge"))
                    .map(Bound::unbind)
            })?
            .bind(py)
            .call0()?;
        let bridge = bridge.cast::<LoopBridge>()?;
        let future = bridge::running_loop_future(py)?;
        // A waker, not a task: nothing keeps the signal alive once the call is over.
        let waker = Waker::from(Arc::new(ResolveOnWake {
            queue: Arc::clone(bridge.get().queue()),
            future: Mutex::new(Some(future.clone().unbind())),
        }));
        let mut cancelled = std::pin::pin!(self.0.cancelled());
        if cancelled
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            waker.wake();
        }
        Ok(future)
    }
}

/// Resolves an asyncio future with True, on its loop, when woken.
struct ResolveOnWake {
    queue: Arc<bridge::Inner>,
    future: Mutex<Option<Py<PyAny>>>,
}

impl Wake for ResolveOnWake {
    fn wake(self: Arc<Self>) {
        let future = self.future.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(future) = future {
            self.queue
                .complete(future, Box::new(|py| true.into_py_any(py)));
        }
    }
}

/// One report of `_run_many`: `(index, cancelled, value, error)`, `error` being
/// `(type name, message, traceback)` when the function raised.
type PyReport = (
    usize,
    bool,
    Option<Bytes>,
    Option<(String, String, Option<String>)>,
);

/// The plan of `_run_many`: `n` calls whose argument is their index (decimal), every
/// `cancel_every`-th (0: none) cancelled `cancel_after_ms` after it starts.
fn plan(n: usize, cancel_every: usize, cancel_after_ms: u64) -> Vec<redkit::host::Planned> {
    (0..n)
        .map(|i| redkit::host::Planned {
            arg: i.to_string().into_bytes(),
            cancel_after: (cancel_every > 0 && i % cancel_every == 0)
                .then(|| Duration::from_millis(cancel_after_ms)),
        })
        .collect()
}

/// A report as Python gets it.
fn py_report(r: redkit::host::CallReport) -> PyReport {
    let (value, error) = match r.result {
        Ok(v) => (Some(Bytes(v)), None),
        Err(e) => (
            None,
            Some((
                e.kind().to_string(),
                e.message().to_string(),
                e.trace().map(str::to_string),
            )),
        ),
    };
    (r.index, r.cancelled, value, error)
}

/// The reports of a `_run_many`, read off the core's event stream as calls end: iterate
/// it (blocking, the GIL released while waiting), or await `next_async(bridge)` until it
/// gives None (what `redkit._host.reports` does).
#[pyclass(frozen, module = "redkit._redkit")]
pub struct Reports(Arc<tokio::sync::Mutex<redkit::host::Events<redkit::host::CallReport>>>);

impl Reports {
    /// Start the plan in the background (on the core's runtime; the calls themselves run
    /// where `host` runs them). Called with the GIL held, like every use of the runtime.
    fn start(host: PyHost, plan: Vec<redkit::host::Planned>, concurrency: usize) -> Reports {
        let (tx, events) = redkit::host::events();
        crate::runtime::runtime().spawn(async move {
            redkit::host::run_many(&host, plan, concurrency, &tx).await;
        });
        Reports(Arc::new(tokio::sync::Mutex::new(events)))
    }

    /// The next report, or None once every call has reported.
    fn next(&self) -> impl Future<Output = redkit::Result<Option<PyReport>>> + Send + 'static {
        let events = Arc::clone(&self.0);
        async move { Ok(events.lock().await.recv().await.map(py_report)) }
    }
}

#[pymethods]
impl Reports {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyReport>> {
        crate::runtime::block_on(py, self.next())
    }

    /// The next report, awaitable on the loop of `bridge`; None at the end.
    fn next_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
    ) -> PyResult<Bound<'py, PyAny>> {
        bridge::spawn(py, bridge.get(), self.next())
    }
}

/// Test hook: call the plain function `func(arg, cancel)` `n` times, `concurrency` at a
/// time, cancelling every `cancel_every`-th call; its reports as they come.
#[pyfunction]
#[pyo3(signature = (func, n, concurrency, cancel_every=0, cancel_after_ms=1))]
pub fn _run_many(
    func: Py<PyAny>,
    n: usize,
    concurrency: usize,
    cancel_every: usize,
    cancel_after_ms: u64,
) -> Reports {
    let host = PyHost::blocking(func);
    Reports::start(host, plan(n, cancel_every, cancel_after_ms), concurrency)
}

/// `_run_many` for a coroutine function, run on the loop of `bridge` (the running one).
#[pyfunction]
#[pyo3(signature = (bridge, func, n, concurrency, cancel_every=0, cancel_after_ms=1))]
pub fn _run_many_async(
    py: Python<'_>,
    bridge: &Bound<'_, LoopBridge>,
    func: Py<PyAny>,
    n: usize,
    concurrency: usize,
    cancel_every: usize,
    cancel_after_ms: u64,
) -> PyResult<Reports> {
    let host = PyHost::on_loop(py, func, bridge)?;
    Ok(Reports::start(
        host,
        plan(n, cancel_every, cancel_after_ms),
        concurrency,
    ))
}
