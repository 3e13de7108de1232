//! The one place where core errors become JavaScript errors.
//!
//! A core error crosses as a plain `Error` whose message starts with a marker holding the
//! kind's code (`\u{1}ERR_CLOSED\u{1}client is closed`); `errors.js` reads the marker and
//! throws the matching `Error` subclass. A loader's own JavaScript error is handed back
//! untouched, so the caller gets the very object its loader threw.

use std::collections::HashMap;

use napi::Status;
use napi_derive::napi;
use redkit::{Error, ErrorKind};

/// Marks the start and end of the code in an error message (a control character no core
/// message contains).
const MARK: char = '\u{1}';

/// Turn a core error into the error the promise rejects with.
pub fn to_js(err: Error) -> napi::Error {
    if let Error::Loader(inner) = &err {
        // The loader was JavaScript: give back the object it threw (napi keeps a reference
        // to it, released on the JS thread).
        if let Some(original) = inner
            .downcast_ref::<redkit::HostError>()
            .and_then(|e| e.original::<napi::Error>())
            .and_then(|e| e.try_clone().ok())
        {
            return original;
        }
    }
    napi::Error::new(Status::GenericFailure, marked_message(&err))
}

/// The message with its kind's code in front, as `errors.js` reads it back (also used for
/// the error a rate limit result carries).
pub fn marked_message(err: &Error) -> String {
    format!("{MARK}{}{MARK}{err}", err.kind().code())
}

/// Run `f` and map its error.
pub fn js<T>(result: redkit::Result<T>) -> napi::Result<T> {
    result.map_err(to_js)
}

/// `code -> class name` for every error kind, e.g. `{ ERR_CLOSED: "Closed" }`: `errors.js`
/// builds its lookup table from this, so the mapping is written once, in the core.
#[napi]
pub fn error_classes() -> HashMap<String, String> {
    ErrorKind::ALL
        .iter()
        .map(|k| (k.code().to_string(), k.class_name().to_string()))
        .collect()
}

/// Panics on purpose. Only for the test suite, which checks that a Rust panic in a
/// synchronous call reaches JavaScript as an error and never aborts the process.
#[napi(catch_unwind, js_name = "__panicForTests")]
pub fn panic_for_tests() {
    panic!("a deliberate panic (sync)");
}

/// Panics on purpose inside a promise, like a bug in an async method would. Only for the
/// test suite.
#[napi(js_name = "__panicInPromiseForTests")]
pub async fn panic_in_promise_for_tests() -> napi::Result<()> {
    panic!("a deliberate panic (async)");
}
