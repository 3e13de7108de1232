//! The hot entry points as plain JavaScript functions.
//!
//! A method of a `#[napi]` class costs a lot per call before it does anything: napi-rs
//! unwraps `this`, checks its class and registers the borrow of `&self` in a process-wide
//! table, and a cache hit makes two or three native calls (figures in
//! bench/results/code-notes.md). The calls made for every operation (starting one, taking
//! completions, feeding socket bytes) are therefore closures made once per object:
//! `functions()` on each class returns them as an object, at a fraction of a method's cost
//! per call. Each closure holds clones of what it needs; a panic inside one is a JS error,
//! never an abort. The binding's unsafe code is here: the functions' trampoline (napi-rs'
//! allocates at every call) and napi-rs' own value conversion.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, Object, ToNapiValue, Unknown};
use napi::{sys, Env, JsError, Status};

use crate::completion::panic_message;

/// The most arguments a function reads; more are ignored.
const MAX_ARGS: usize = 4;

/// One call of a function made by [`Functions::add`]: its environment and arguments.
pub struct Call<'a> {
    /// The environment of the call in progress.
    pub env: &'a Env,
    args: &'a [sys::napi_value],
}

/// An object of plain functions under construction.
pub struct Functions<'env> {
    env: &'env Env,
    object: Object<'env>,
}

impl<'env> Functions<'env> {
    /// An empty object.
    pub fn new(env: &'env Env) -> napi::Result<Self> {
        Ok(Functions {
            env,
            object: Object::new(env)?,
        })
    }

    /// Add `name`, which runs `f` with the call's arguments. Not napi-rs'
    /// `create_function_from_closure`: its trampoline allocates the argument list on the
    /// heap at every call, and a cache hit makes two or three calls.
    #[allow(unsafe_code)]
    pub fn add<R, F>(mut self, name: &str, f: F) -> napi::Result<Self>
    where
        R: ToNapiValue,
        F: Fn(&Call) -> napi::Result<R> + 'static,
    {
        let data = Box::into_raw(Box::new(f));
        let mut function = ptr::null_mut();
        let raw_env = self.env.raw();
        // SAFETY: `data` is a live box that the finalizer below frees when the function is
        // collected; until then `trampoline::<R, F>` only borrows it.
        unsafe {
            let status = sys::napi_create_function(
                raw_env,
                name.as_ptr().cast(),
                name.len() as isize,
                Some(trampoline::<R, F>),
                data.cast(),
                &mut function,
            );
            if status != sys::Status::napi_ok {
                drop(Box::from_raw(data));
                return Err(napi::Error::new(
                    Status::GenericFailure,
                    format!("could not make the native function {name}"),
                ));
            }
            let status = sys::napi_add_finalizer(
                raw_env,
                function,
                data.cast(),
                Some(finalize::<F>),
                ptr::null_mut(),
                ptr::null_mut(),
            );
            if status != sys::Status::napi_ok {
                // The function exists and may still be called: leak the closure rather
                // than free what it points to.
                return Err(napi::Error::new(
                    Status::GenericFailure,
                    format!("could not attach the native function {name}"),
                ));
            }
            let function = Unknown::from_napi_value(raw_env, function)?;
            self.object.set_named_property(name, function)?;
        }
        Ok(self)
    }

    /// The finished object.
    pub fn finish(self) -> Object<'env> {
        self.object
    }
}

/// What V8 calls: the arguments read into an array on the stack, then `F` (the closure
/// `add` boxed), its result converted; an error or a panic is thrown as a JS error.
#[allow(unsafe_code)]
unsafe extern "C" fn trampoline<R, F>(
    raw_env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value
where
    R: ToNapiValue,
    F: Fn(&Call) -> napi::Result<R> + 'static,
{
    let mut argc = MAX_ARGS;
    let mut argv = [ptr::null_mut(); MAX_ARGS];
    let mut data = ptr::null_mut();
    // SAFETY: V8 calls this with a live env and callback info; `argv` has room for `argc`
    // values; `data` is the box `add` made, alive as long as the function (finalizer).
    let result = unsafe {
        let status = sys::napi_get_cb_info(
            raw_env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        );
        if status == sys::Status::napi_ok && !data.is_null() {
            let f: &F = &*data.cast::<F>();
            let env = Env::from_raw(raw_env);
            let call = Call {
                env: &env,
                args: &argv[..argc.min(MAX_ARGS)],
            };
            match catch_unwind(AssertUnwindSafe(|| {
                f(&call).and_then(|r| R::to_napi_value(raw_env, r))
            })) {
                Ok(result) => result,
                Err(panic) => Err(napi::Error::new(
                    Status::GenericFailure,
                    panic_message(&panic),
                )),
            }
        } else {
            Err(napi::Error::new(
                Status::GenericFailure,
                "could not read the call's arguments",
            ))
        }
    };
    result.unwrap_or_else(|e| {
        // SAFETY: the env of the call in progress.
        unsafe { JsError::from(e).throw_into(raw_env) };
        ptr::null_mut()
    })
}

/// Frees the closure of a collected function.
#[allow(unsafe_code)]
unsafe extern "C" fn finalize<F>(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the box `add` made for this function, freed only here, once.
    drop(unsafe { Box::<F>::from_raw(data.cast()) });
}

/// Argument `i`, converted.
pub fn arg<T: FromNapiValue>(call: &Call, i: usize) -> napi::Result<T> {
    match call.args.get(i) {
        #[allow(unsafe_code)]
        // SAFETY: a value of the call in progress, in its env.
        Some(&value) => unsafe { T::from_napi_value(call.env.raw(), value) },
        None => Err(napi::Error::new(
            Status::InvalidArg,
            format!("argument {i} is missing"),
        )),
    }
}

/// Keys and identifiers at most this long (in UTF-8) are read in one napi call (see
/// [`string_arg`]).
const SHORT_STRING: usize = 256;

/// Argument `i`, a string. napi-rs' conversion asks V8 twice (the length, then the bytes);
/// a key usually fits a buffer on the stack, which takes one call. Anything else (longer,
/// not a string, or read with a U+FFFD that may stand for a lone surrogate) is read as
/// UTF-16 (see `options::text`): not a string, or a lone surrogate, is an `InvalidArgument`.
pub fn string_arg(call: &Call, i: usize) -> napi::Result<String> {
    if let Some(&value) = call.args.get(i) {
        let mut buffer = [0u8; SHORT_STRING];
        let mut len = 0;
        #[allow(unsafe_code)]
        // SAFETY: a value of the call in progress, in its env; V8 writes at most
        // `buffer.len()` bytes (the last a NUL) and the count of the others into `len`.
        let status = unsafe {
            sys::napi_get_value_string_utf8(
                call.env.raw(),
                value,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut len,
            )
        };
        // V8 cuts a string that does not fit before the character that would not: up to
        // four bytes short of the room there is (`buffer.len()` less the NUL). Read any
        // string that came that close again the long way.
        if status == sys::Status::napi_ok && len + 4 < SHORT_STRING - 1 {
            if let Ok(text) = std::str::from_utf8(&buffer[..len]) {
                // V8 writes a lone surrogate as U+FFFD (EF BF BD): only then look closer.
                if !buffer[..len].contains(&0xEF) || !text.contains('\u{FFFD}') {
                    return Ok(text.to_owned());
                }
            }
        }
        #[allow(unsafe_code)]
        // SAFETY: a value of the call in progress, in its env.
        return unsafe { crate::options::text(call.env.raw(), value, "a key or identifier") };
    }
    Err(crate::errors::to_js(redkit::Error::invalid(format!(
        "argument {i} is missing: a string was expected"
    ))))
}

/// Argument `i`, `None` when it is missing, `undefined` or `null`.
pub fn opt_arg<T: FromNapiValue>(call: &Call, i: usize) -> napi::Result<Option<T>> {
    if i >= call.args.len() {
        return Ok(None);
    }
    arg(call, i)
}

/// A JS value already made: what a closure returns when its result borrows the call's
/// `Env` (a closure's return type cannot name that lifetime): the value is made in the
/// live `Env` of the current call and handed back to that same call.
pub struct Made(sys::napi_value);

impl Made {
    /// Convert `value` now, in `env`.
    #[allow(unsafe_code)]
    pub fn from<T: ToNapiValue>(env: &Env, value: T) -> napi::Result<Made> {
        // SAFETY: `env` is the environment of the call in progress, valid for its duration,
        // which is as long as the returned handle is used.
        unsafe { T::to_napi_value(env.raw(), value) }.map(Made)
    }
}

#[allow(unsafe_code)]
impl ToNapiValue for Made {
    unsafe fn to_napi_value(_env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
        Ok(value.0)
    }
}

/// Functions made the way every hot entry point is, for the test suite only: `panic()`
/// panics, `first(a)` returns its first argument (a string), `second(a, b?)` its second or
/// `null`.
#[napi_derive::napi(
    js_name = "__functionsForTests",
    ts_return_type = "{ panic(): void; first(a: string): string; second(a: string, b?: string | null): string | null }"
)]
pub fn functions_for_tests(env: &Env) -> napi::Result<Object<'_>> {
    Ok(Functions::new(env)?
        .add("panic", |_| -> napi::Result<()> {
            panic!("a deliberate panic (plain function)")
        })?
        .add("first", |x| arg::<String>(x, 0))?
        .add("second", |x| opt_arg::<String>(x, 1))?
        .finish())
}
