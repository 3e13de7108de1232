//! The native module `redkit._redkit`: thin pyo3 wrappers over the redkit core. The
//! public Python API (`redkit.Client`, `redkit.asyncio.Client`, `Cache`, the exceptions)
//! is in `python/redkit/`; this module only converts arguments and maps errors.

mod cache;
mod connection;
mod errors;
mod runtime;

use pyo3::prelude::*;

/// Drop the parent's runtime in a forked child (registered with `os.register_at_fork`).
#[pyfunction]
fn _after_fork_in_child() {
    runtime::after_fork_in_child();
}

/// Test hook: panic inside a blocking call (`asyncio=False`) or an awaitable, to check that
/// a Rust panic reaches Python as a `RedkitError` rather than aborting the interpreter.
#[pyfunction]
#[pyo3(signature = (asyncio=false))]
fn _panic_for_test(py: Python<'_>, asyncio: bool) -> PyResult<Option<Bound<'_, PyAny>>> {
    fn boom() -> redkit::Result<()> {
        panic!("deliberate panic from _panic_for_test")
    }
    if asyncio {
        runtime::awaitable(py, async { boom().map_err(errors::to_py) }).map(Some)
    } else {
        runtime::block_on(py, async { boom() }).map(|_| None)
    }
}

#[pymodule]
fn _redkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<connection::Connection>()?;
    m.add_class::<cache::CacheCore>()?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
