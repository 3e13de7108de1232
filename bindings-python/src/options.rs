//! Keyword options as the core reads them: one walk from Python values to
//! [`redkit::Input`], knowing no option by name. Names, defaults, types, units and bounds
//! are the core's (`redkit::input`): a new option costs nothing here.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use redkit::input::{self, Options};
use redkit::{Dialect, Input};

use crate::errors::to_py;

static TIMEDELTA: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A Python value as an option value. Never fails: what options cannot hold becomes
/// [`Input::Invalid`], refused by the core with the option's name.
fn input(value: &Bound<'_, PyAny>) -> PyResult<Input> {
    let py = value.py();
    Ok(if value.is_none() {
        Input::Null
    } else if let Ok(b) = value.cast::<PyBool>() {
        Input::Bool(b.is_true())
    } else if value.is_instance_of::<PyInt>() {
        match value.extract::<i64>() {
            Ok(n) => Input::Int(n),
            Err(_) => Input::Invalid(format!("{value} (beyond 64 bits)")),
        }
    } else if let Ok(f) = value.cast::<PyFloat>() {
        Input::Number(f.value())
    } else if let Ok(s) = value.cast::<PyString>() {
        string(s)
    } else if let Ok(d) = value.cast::<PyDict>() {
        let mut entries = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let name = match input(&k)? {
                Input::Str(name) => name,
                other => format!("{other:?}"),
            };
            entries.push((name, input(&v)?));
        }
        Input::Map(entries)
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        Input::List(
            value
                .try_iter()?
                .map(|item| input(&item?))
                .collect::<PyResult<_>>()?,
        )
    } else if value.is_instance(TIMEDELTA.import(py, "datetime", "timedelta")?)? {
        timedelta(value)?
    } else {
        Input::Invalid(format!("a {}", value.get_type().name()?))
    })
}

/// A str, or [`Input::Invalid`] when it holds a lone surrogate (not UTF-8).
fn string(s: &Bound<'_, PyString>) -> Input {
    match s.to_cow() {
        Ok(text) => Input::Str(text.into_owned()),
        Err(_) => Input::Invalid("a string with a lone surrogate".into()),
    }
}

/// A timedelta: exact (days, seconds and microseconds are integers); a negative one as its
/// (negative) seconds, which the core refuses.
fn timedelta(value: &Bound<'_, PyAny>) -> PyResult<Input> {
    let days: i64 = value.getattr("days")?.extract()?;
    let seconds: u64 = value.getattr("seconds")?.extract()?;
    let micros: u64 = value.getattr("microseconds")?.extract()?;
    Ok(match u64::try_from(days) {
        Ok(days) => Input::Duration(
            Duration::from_secs(days * 86_400 + seconds) + Duration::from_micros(micros),
        ),
        Err(_) => Input::Number(value.call_method0("total_seconds")?.extract()?),
    })
}

/// The keyword options `opts` as the core's options `T` (`what` names them in errors).
pub fn read<T: Options>(what: &str, opts: Option<&Bound<'_, PyDict>>) -> PyResult<T> {
    let given = match opts {
        Some(d) => input(d.as_any())?,
        None => Input::Null,
    };
    input::read(what, given, Dialect::PYTHON).map_err(to_py)
}

/// A write's options (`ttl`, `tags`), read and checked by the core as every option is, so
/// its messages speak the caller's unit (`ttl must be at least 0.001s, got 0s`).
pub fn write_options(
    ttl: Option<&Bound<'_, PyAny>>,
    tags: Vec<String>,
) -> PyResult<redkit::SetOptions> {
    let mut entries = vec![(
        "tags".to_string(),
        Input::List(tags.into_iter().map(Input::Str).collect()),
    )];
    if let Some(ttl) = ttl {
        entries.push(("ttl".to_string(), input(ttl)?));
    }
    input::read("set options", Input::Map(entries), Dialect::PYTHON).map_err(to_py)
}

/// A ttl given on its own (`touch`, `incr`): read and checked by the core, its errors in
/// seconds (`ttl must be at least 0.001s, got 0s`).
pub fn ttl(value: &Bound<'_, PyAny>) -> PyResult<Duration> {
    input::ttl("ttl", input(value)?, Dialect::PYTHON).map_err(to_py)
}

/// A duration given on its own (a write's ttl), by the same rules as every option's.
pub fn duration(what: &str, value: &Bound<'_, PyAny>) -> PyResult<Duration> {
    input::duration(what, input(value)?, Dialect::PYTHON).map_err(to_py)
}

/// A key or identifier: a str without lone surrogates (which have no UTF-8 form, so
/// distinct keys would otherwise collide or fail as a builtin `UnicodeEncodeError`).
pub struct Text(pub String);

impl<'py> FromPyObject<'_, 'py> for Text {
    type Error = PyErr;

    fn extract(value: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        let s = value.cast::<PyString>().map_err(PyErr::from)?;
        match s.to_cow() {
            Ok(text) => Ok(Text(text.into_owned())),
            Err(_) => Err(to_py(redkit::Error::invalid(
                "keys and identifiers must not contain lone surrogates",
            ))),
        }
    }
}

/// A duration argument of a method (`wait_until_finished(timeout)`, `workers(window)`,
/// `clean(grace)`) in whole milliseconds, rounded: read by the core's rules as every
/// option's (seconds, a timedelta, or a string with its unit), so the package has no
/// second parser of durations.
#[pyfunction]
pub fn _duration_ms(what: &str, value: &Bound<'_, PyAny>) -> PyResult<u64> {
    let d = duration(what, value)?;
    Ok(d.as_millis() as u64 + u64::from(d.subsec_micros() % 1000 >= 500))
}

/// Test hook for the conformance scenarios (conformance/options): `opts` read as the
/// options of `pattern`, answered as the core's JSON (every default filled in, ms).
#[pyfunction]
pub fn _resolve_options(pattern: &str, opts: &Bound<'_, PyAny>) -> PyResult<String> {
    input::resolve_json(pattern, input(opts)?, Dialect::PYTHON).map_err(to_py)
}
