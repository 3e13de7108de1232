//! redkit errors as JS values, and JS loader errors carried through the core unchanged.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;

use redkit::Error;
use wasm_bindgen::prelude::*;

/// A redkit error as the facade expects it: an `Error` whose `redkitKind` names the class
/// (`ConnectionError`, ...) and whose `code` is the stable code. The facade turns it into
/// an instance of that class.
pub fn to_js(e: Error) -> JsValue {
    if let Error::Loader(inner) = &e {
        let thrown = inner
            .downcast_ref::<redkit::HostError>()
            .and_then(|h| h.original::<JsLoaderError>());
        if let Some(js) = thrown {
            // The loader's own error goes back to the caller as it was thrown.
            return js.value();
        }
    }
    let kind = e.kind();
    let err = js_sys::Error::new(&e.to_string());
    let _ = js_sys::Reflect::set(&err, &"redkitKind".into(), &kind.class_name().into());
    let _ = js_sys::Reflect::set(&err, &"code".into(), &kind.code().into());
    err.into()
}

/// `code -> class name` for every error kind, e.g. `{ ERR_CLOSED: "Closed" }`: the shared
/// facade's table (js/errors.js) is checked against it by the shared test suite.
#[wasm_bindgen(js_name = errorClasses)]
pub fn error_classes() -> js_sys::Object {
    let table = js_sys::Object::new();
    for k in redkit::ErrorKind::ALL {
        let _ = js_sys::Reflect::set(&table, &k.code().into(), &k.class_name().into());
    }
    table
}

/// Shorthand for an `InvalidArgument` as a JS value.
pub fn invalid(msg: impl Into<String>) -> JsValue {
    to_js(Error::invalid(msg))
}

thread_local! {
    static THROWN: RefCell<HashMap<u32, JsValue>> = RefCell::new(HashMap::new());
    static NEXT: Cell<u32> = const { Cell::new(1) };
}

/// What a JS loader threw. The core's loader errors must be `Send + Sync` (they are shared
/// between single-flight waiters); a `JsValue` is neither, so the value waits in a
/// module-local table under an id, and leaves it when the last copy of the error drops.
#[derive(Debug)]
pub struct JsLoaderError {
    id: u32,
    message: String,
}

impl JsLoaderError {
    /// Keep `thrown` and make the error that stands for it.
    pub fn new(thrown: JsValue) -> Self {
        let message = message_of(&thrown);
        let id = NEXT.with(|n| {
            let id = n.get();
            n.set(id.wrapping_add(1).max(1));
            id
        });
        THROWN.with(|t| t.borrow_mut().insert(id, thrown));
        JsLoaderError { id, message }
    }

    fn value(&self) -> JsValue {
        THROWN
            .with(|t| t.borrow().get(&self.id).cloned())
            .unwrap_or_else(|| js_sys::Error::new(&self.message).into())
    }
}

impl Drop for JsLoaderError {
    fn drop(&mut self) {
        let _ = THROWN.try_with(|t| t.borrow_mut().remove(&self.id));
    }
}

impl fmt::Display for JsLoaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsLoaderError {}

/// The best human-readable text of a thrown JS value.
pub fn message_of(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    if let Some(s) = v.as_string() {
        return s;
    }
    format!("{v:?}")
}

/// The `name` of a thrown JS error (`TypeError`, `AbortError`, `ReplyError`, ...).
pub fn name_of(v: &JsValue) -> String {
    js_sys::Reflect::get(v, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default()
}
