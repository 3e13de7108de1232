//! Options as the core reads them: one walk from a JavaScript value to [`redkit::Input`],
//! knowing no option by name. Names, defaults, types, units and bounds are the core's
//! (`redkit::input`): a new option costs nothing here. Strings are read as UTF-16, so a
//! lone surrogate is refused rather than turned into U+FFFD (where distinct keys would
//! collide).

use std::ptr;

use napi::bindgen_prelude::FromNapiValue;
use napi::sys;
use napi_derive::napi;
use redkit::input::{self, Options};
use redkit::{Dialect, Error, Input};

use crate::errors::{js, to_js};

/// A JS value as the core reads options: its type and contents, nothing interpreted.
pub struct Js(Input);

impl Js {
    /// The value as the core reads it, uninterpreted (an `incr` amount).
    pub fn input(self) -> Input {
        self.0
    }

    /// The value as a name (a namespace, a limiter's name): a well-formed string.
    pub fn text(self, what: &str) -> napi::Result<String> {
        match self.0 {
            Input::Str(s) => Ok(s),
            other => Err(not_text(what, &other)),
        }
    }

    /// The value as a list of names (keys, tags): an array of well-formed strings.
    pub fn texts(self, what: &str) -> napi::Result<Vec<String>> {
        match self.0 {
            Input::List(items) => items
                .into_iter()
                .map(|item| Js(item).text(&format!("each of {what}")))
                .collect(),
            other => Err(to_js(Error::invalid(format!(
                "{what} must be an array of strings, got {}",
                describe(&other)
            )))),
        }
    }
}

impl FromNapiValue for Js {
    #[allow(unsafe_code)]
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: napi-rs hands a live value of the call in progress, in its env.
        unsafe { walk(env, value, 0) }.map(Js)
    }
}

/// Nesting deeper than this is no option object (and a cycle must not recurse forever).
const MAX_DEPTH: usize = 16;

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(
            "could not read a JavaScript value",
        ))
    }
}

/// `value` as an [`Input`].
///
/// # Safety
/// `env` and `value` must belong to the call in progress.
#[allow(unsafe_code)]
unsafe fn walk(env: sys::napi_env, value: sys::napi_value, depth: usize) -> napi::Result<Input> {
    let mut kind = 0;
    // SAFETY (every block below): `env` and `value` are live (the caller's promise); the
    // out-pointers are local.
    check(unsafe { sys::napi_typeof(env, value, &mut kind) })?;
    Ok(match kind {
        sys::ValueType::napi_undefined | sys::ValueType::napi_null => Input::Null,
        sys::ValueType::napi_boolean => {
            let mut b = false;
            check(unsafe { sys::napi_get_value_bool(env, value, &mut b) })?;
            Input::Bool(b)
        }
        sys::ValueType::napi_number => {
            let mut n = 0.0;
            check(unsafe { sys::napi_get_value_double(env, value, &mut n) })?;
            Input::Number(n)
        }
        sys::ValueType::napi_string => match unsafe { utf16(env, value) }? {
            Some(s) => Input::Str(s),
            None => Input::Invalid("a string with a lone surrogate".into()),
        },
        sys::ValueType::napi_object if depth < MAX_DEPTH => unsafe { object(env, value, depth) }?,
        sys::ValueType::napi_object => Input::Invalid("an object nested too deep".into()),
        sys::ValueType::napi_function => Input::Invalid("a function".into()),
        sys::ValueType::napi_bigint => Input::Invalid("a bigint".into()),
        _ => Input::Invalid("a symbol".into()),
    })
}

/// An array as a list, any other object as its own enumerable string-keyed properties.
///
/// # Safety
/// As [`walk`]; `value` is an object.
#[allow(unsafe_code)]
unsafe fn object(env: sys::napi_env, value: sys::napi_value, depth: usize) -> napi::Result<Input> {
    let mut is_array = false;
    // SAFETY (every block below): live env and values of the call in progress.
    check(unsafe { sys::napi_is_array(env, value, &mut is_array) })?;
    let names = if is_array {
        value
    } else {
        let mut names = ptr::null_mut();
        check(unsafe {
            sys::napi_get_all_property_names(
                env,
                value,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut names,
            )
        })?;
        names
    };
    let mut len = 0;
    check(unsafe { sys::napi_get_array_length(env, names, &mut len) })?;
    let mut items = Vec::with_capacity(len as usize);
    let mut entries = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut item = ptr::null_mut();
        check(unsafe { sys::napi_get_element(env, names, i, &mut item) })?;
        if is_array {
            items.push(unsafe { walk(env, item, depth + 1) }?);
            continue;
        }
        let mut field = ptr::null_mut();
        check(unsafe { sys::napi_get_property(env, value, item, &mut field) })?;
        // Property names of a plain object are well-formed unless written with escapes:
        // such a name matches no option, and is refused as unknown under its lossy form.
        let name = unsafe { utf16(env, item) }?.unwrap_or_else(|| "\u{FFFD}".into());
        entries.push((name, unsafe { walk(env, field, depth + 1) }?));
    }
    Ok(if is_array {
        Input::List(items)
    } else {
        Input::Map(entries)
    })
}

/// A JS string, read as UTF-16: `None` when it holds a lone surrogate.
///
/// # Safety
/// As [`walk`]; `value` is a string.
#[allow(unsafe_code)]
unsafe fn utf16(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Option<String>> {
    let mut len = 0;
    // SAFETY: a null buffer asks for the length only; then `units` has room for `len`
    // units and the NUL V8 writes after them.
    check(unsafe { sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut len) })?;
    let mut units = vec![0u16; len + 1];
    let mut written = 0;
    check(unsafe {
        sys::napi_get_value_string_utf16(env, value, units.as_mut_ptr(), len + 1, &mut written)
    })?;
    units.truncate(written);
    Ok(String::from_utf16(&units).ok())
}

/// A key, identifier or name: a string without lone surrogates, else an `InvalidArgument`
/// (one kind for `undefined`, numbers and broken strings alike).
///
/// # Safety
/// `env` and `value` must belong to the call in progress.
#[allow(unsafe_code)]
pub unsafe fn text(env: sys::napi_env, value: sys::napi_value, what: &str) -> napi::Result<String> {
    // SAFETY: the caller's promise.
    Js(unsafe { walk(env, value, MAX_DEPTH) }?).text(what)
}

/// The error for a name or key that is no well-formed string.
fn not_text(what: &str, got: &Input) -> napi::Error {
    to_js(Error::invalid(match got {
        Input::Invalid(broken) if broken.contains("surrogate") => {
            format!("{what} must not contain lone surrogates")
        }
        other => format!("{what} must be a string, got {}", describe(other)),
    }))
}

fn describe(input: &Input) -> &'static str {
    match input {
        Input::Null => "undefined or null",
        Input::Bool(_) => "a boolean",
        Input::Int(_) | Input::Number(_) => "a number",
        Input::List(_) => "an array",
        _ => "an object",
    }
}

/// `opts` (absent, or an object) as the core's options `T`; `what` names them in errors.
pub fn read<T: Options>(what: &str, opts: Option<Js>) -> napi::Result<T> {
    js(input::read(
        what,
        opts.map_or(Input::Null, |o| o.0),
        Dialect::JS,
    ))
}

/// A value's own conversion, for the per-write ttl (`set`, `getOrSet`): by the rules of
/// every duration option.
pub fn duration(what: &str, value: Js) -> redkit::Result<std::time::Duration> {
    input::duration(what, value.0, Dialect::JS)
}

/// Options of one write (`set`, `getOrSet`): `{ ttl, tags }`.
pub fn set_options(opts: Option<Js>) -> redkit::Result<redkit::SetOptions> {
    input::read(
        "set options",
        opts.map_or(Input::Null, |o| o.0),
        Dialect::JS,
    )
}

/// Test hook for the conformance scenarios (conformance/options): `opts` read as the
/// options of `pattern`, answered as the core's JSON (every default filled in, ms).
#[napi(
    js_name = "__resolveOptions",
    ts_args_type = "pattern: string, opts: unknown"
)]
pub fn resolve_options(pattern: String, opts: Option<Js>) -> napi::Result<String> {
    js(input::resolve_json(
        &pattern,
        opts.map_or(Input::Null, |o| o.0),
        Dialect::JS,
    ))
}

/// What `client.check()` reports.
#[napi(object)]
pub struct HealthReport {
    /// `redis_version` from INFO.
    pub server_version: String,
    /// `rdb`, `aof`, `rdb+aof` or `none`.
    pub persistence: String,
    /// `maxmemory-policy`.
    pub eviction_policy: String,
    /// Plain-language warnings; empty when nothing looks risky.
    pub warnings: Vec<String>,
}

impl HealthReport {
    /// The report as the JSON object `client.check()` resolves to (camelCase keys).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "serverVersion": self.server_version,
            "persistence": self.persistence,
            "evictionPolicy": self.eviction_policy,
            "warnings": self.warnings,
        })
        .to_string()
    }
}

impl From<redkit::HealthReport> for HealthReport {
    fn from(r: redkit::HealthReport) -> Self {
        HealthReport {
            server_version: r.server_version,
            persistence: r.persistence,
            eviction_policy: r.eviction_policy,
            warnings: r.warnings,
        }
    }
}
