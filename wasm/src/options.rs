//! Options as the core reads them: one walk from a JS value to [`redkit::Input`], knowing
//! no option by name. Names, defaults, types, units and bounds are the core's
//! (`redkit::input`): a new option costs nothing here. Strings with a lone surrogate are
//! refused rather than turned into U+FFFD (where distinct keys would collide).

use js_sys::{Array, JsString, Object, Reflect};
use redkit::input::{self, Options};
use redkit::{Dialect, Error, Input};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::to_js;

/// Nesting deeper than this is no option object (and a cycle must not recurse forever).
const MAX_DEPTH: usize = 16;

/// `v` as an [`Input`].
fn walk(v: &JsValue, depth: usize) -> Input {
    if v.is_undefined() || v.is_null() {
        Input::Null
    } else if let Some(b) = v.as_bool() {
        Input::Bool(b)
    } else if let Some(n) = v.as_f64() {
        Input::Number(n)
    } else if let Some(s) = v.dyn_ref::<JsString>() {
        if s.is_valid_utf16() {
            Input::Str(String::from(s))
        } else {
            Input::Invalid("a string with a lone surrogate".into())
        }
    } else if v.is_function() {
        Input::Invalid("a function".into())
    } else if !v.is_object() {
        Input::Invalid("a symbol or a bigint".into())
    } else if depth >= MAX_DEPTH {
        Input::Invalid("an object nested too deep".into())
    } else if Array::is_array(v) {
        Input::List(Array::from(v).iter().map(|x| walk(&x, depth + 1)).collect())
    } else {
        let o: &Object = v.unchecked_ref();
        Input::Map(
            Object::keys(o)
                .iter()
                .map(|k| {
                    let value = Reflect::get(o, &k).unwrap_or(JsValue::UNDEFINED);
                    let name = k.as_string().unwrap_or_default();
                    (name, walk(&value, depth + 1))
                })
                .collect(),
        )
    }
}

/// `v` as the core reads it, uninterpreted (an `incr` amount, a duration).
pub fn input(v: &JsValue) -> Input {
    walk(v, 0)
}

/// `opts` (absent, or an object) as the core's options `T`; `what` names them in errors.
pub fn read<T: Options>(what: &str, opts: &JsValue) -> Result<T, JsValue> {
    input::read(what, walk(opts, 0), Dialect::JS).map_err(to_js)
}

/// A duration argument (`queue.clean`'s grace, a rate limiter's wait timeout): ms, or a
/// string with its unit, by the rules of every duration option.
pub fn duration(what: &str, v: &JsValue) -> Result<std::time::Duration, JsValue> {
    input::duration(what, walk(v, 0), Dialect::JS).map_err(to_js)
}

/// A key, identifier or name: a string without lone surrogates, else an `InvalidArgument`
/// (one kind for `undefined`, numbers and broken strings alike).
pub fn text(v: &JsValue, what: &str) -> Result<String, JsValue> {
    match walk(v, MAX_DEPTH) {
        Input::Str(s) => Ok(s),
        Input::Invalid(broken) if broken.contains("surrogate") => Err(to_js(Error::invalid(
            format!("{what} must not contain lone surrogates"),
        ))),
        _ => Err(to_js(Error::invalid(format!(
            "{what} must be a string, got {}",
            v.js_typeof().as_string().unwrap_or_default()
        )))),
    }
}

/// A list of keys or tags: an array of strings, each as [`text`].
pub fn texts(v: &JsValue, what: &str) -> Result<Vec<String>, JsValue> {
    if !Array::is_array(v) {
        return Err(to_js(Error::invalid(format!(
            "{what} must be an array of strings"
        ))));
    }
    Array::from(v)
        .iter()
        .map(|x| text(&x, &format!("each of {what}")))
        .collect()
}

/// Test hook for the conformance scenarios (conformance/options): `opts` read as the
/// options of `pattern`, answered as the core's JSON (every default filled in, ms).
#[wasm_bindgen(js_name = resolveOptions)]
pub fn resolve_options(pattern: &str, opts: JsValue) -> Result<String, JsValue> {
    input::resolve_json(pattern, walk(&opts, 0), Dialect::JS).map_err(to_js)
}
