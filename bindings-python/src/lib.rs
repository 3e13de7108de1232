//! The native module `redkit._redkit`: thin pyo3 wrappers over the redkit core. The
//! public Python API (`redkit.Client`, `redkit.asyncio.Client`, `Cache`, the exceptions)
//! is in `python/redkit/`; this module only converts arguments and maps errors.

mod bridge;
mod cache;
mod cache_ops;
mod connection;
mod errors;
mod events;
mod host;
mod incidents;
mod options;
mod pool;
mod queue;
mod ratelimit;
mod runtime;

use pyo3::prelude::*;

/// Drop the parent's runtime in a forked child (registered with `os.register_at_fork`).
#[pyfunction]
fn _after_fork_in_child() {
    runtime::after_fork_in_child();
}

/// Test hook: panic inside a blocking call (no `bridge`) or an awaitable (with the event
/// loop's bridge), to check that a Rust panic reaches Python as a `RedkitError` rather than
/// aborting the interpreter.
#[pyfunction]
#[pyo3(signature = (bridge=None))]
fn _panic_for_test<'py>(
    py: Python<'py>,
    bridge: Option<&Bound<'py, bridge::LoopBridge>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    fn boom() -> redkit::Result<()> {
        panic!("deliberate panic from _panic_for_test")
    }
    if let Some(bridge) = bridge {
        bridge::spawn(py, bridge.get(), async { boom() }).map(Some)
    } else {
        runtime::block_on(py, async { boom() }).map(|_| None)
    }
}

/// The class name of every core error kind (`ErrorKind::ALL`): the test suite checks that
/// `redkit._errors` defines each, so a kind added in the core fails it until it is added.
#[pyfunction]
fn _error_classes() -> Vec<&'static str> {
    redkit::ErrorKind::ALL
        .iter()
        .map(|k| k.class_name())
        .collect()
}

#[pymodule]
fn _redkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<connection::Connection>()?;
    m.add_class::<cache::CacheCore>()?;
    m.add_class::<cache_ops::CacheOps>()?;
    m.add_class::<bridge::LoopBridge>()?;
    m.add_class::<ratelimit::RateLimiterCore>()?;
    m.add_class::<queue::QueueCore>()?;
    m.add_class::<queue::WorkerCore>()?;
    m.add_class::<events::QueueEventsCore>()?;
    m.add_class::<events::WorkerEventsCore>()?;
    m.add("WORKER_EVENTS_KEPT", redkit::worker::EVENTS_KEPT)?;
    m.add_function(wrap_pyfunction!(queue::_backoff_delays, m)?)?;
    m.add_function(wrap_pyfunction!(queue::_next_slots, m)?)?;
    m.add_class::<ratelimit::PyRateLimitResult>()?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(_error_classes, m)?)?;
    m.add_class::<host::Cancellation>()?;
    m.add_class::<host::Reply>()?;
    m.add_class::<host::Reports>()?;
    m.add_function(wrap_pyfunction!(host::_run_many, m)?)?;
    m.add_function(wrap_pyfunction!(host::_run_many_async, m)?)?;
    m.add_function(wrap_pyfunction!(options::_resolve_options, m)?)?;
    m.add_function(wrap_pyfunction!(options::_duration_ms, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
