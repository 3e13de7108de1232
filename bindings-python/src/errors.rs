//! The one place where redkit errors become Python exceptions.
//!
//! The exception classes are defined in Python (`redkit/_errors.py`, so they can also
//! inherit from the matching builtins) and looked up here by `ErrorKind::class_name()`,
//! the name every runtime shares. A loader failure carries the Python exception the
//! loader raised (in its `HostError`, see `host.rs`): it is re-raised as it was, not
//! wrapped.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let module = ERRORS.get_or_try_init(py, || {
        PyModule::import(py, "redkit._errors").map(Bound::unbind)
    })?;
    module.bind(py).getattr(name)
}

fn raise(name: &str, message: String) -> PyErr {
    Python::attach(|py| match class(py, name) {
        Ok(cls) => match cls.call1((message,)) {
            Ok(instance) => PyErr::from_value(instance),
            Err(e) => e,
        },
        // The package is broken (the module cannot be imported): still an exception.
        Err(_) => PyRuntimeError::new_err(format!("{name}: {message}")),
    })
}

/// A redkit error as the Python exception of the same name.
pub fn to_py(err: redkit::Error) -> PyErr {
    if let redkit::Error::Loader(cause) = &err {
        let raised = cause
            .downcast_ref::<redkit::HostError>()
            .and_then(|e| e.original::<PyErr>());
        if let Some(original) = raised {
            return Python::attach(|py| original.clone_ref(py));
        }
    }
    raise(err.kind().class_name(), err.to_string())
}

/// What a caught panic said.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A Rust panic caught at the boundary, as a `RedkitError` (never a crash).
pub fn internal_error(message: String) -> PyErr {
    raise(
        "RedkitError",
        format!("internal error (a bug in redkit): {message}"),
    )
}
