//! The hot entry points as plain JavaScript functions.
//!
//! A method of a `#[napi]` class costs about 300 ns per call before it does anything:
//! napi-rs unwraps `this`, checks its class and registers the borrow of `&self` in a
//! process-wide table. A cache hit makes three native calls, so that alone was a tenth of
//! an ioredis GET. The calls made for every operation (starting one, taking completions,
//! feeding socket bytes) are therefore closures made once per object: `functions()` on
//! each class returns them as an object, and a call costs about 25 ns. Each closure holds
//! clones of what it needs; a panic inside one is a JS error, never an abort.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::{
    FromNapiValue, Function, FunctionCallContext, JsObjectValue, Object, ToNapiValue,
};
use napi::{sys, Env, Status};

use crate::completion::panic_message;

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

    /// Add `name`, which runs `f` with the call's arguments.
    pub fn add<R, F>(mut self, name: &str, f: F) -> napi::Result<Self>
    where
        R: ToNapiValue,
        F: Fn(&FunctionCallContext) -> napi::Result<R> + 'static,
    {
        let function: Function<'_, (), R> =
            self.env.create_function_from_closure(name, move |ctx| {
                match catch_unwind(AssertUnwindSafe(|| f(&ctx))) {
                    Ok(result) => result,
                    Err(panic) => Err(napi::Error::new(
                        Status::GenericFailure,
                        panic_message(&panic),
                    )),
                }
            })?;
        self.object.set_named_property(name, function)?;
        Ok(self)
    }

    /// The finished object.
    pub fn finish(self) -> Object<'env> {
        self.object
    }
}

/// Argument `i`, converted.
pub fn arg<T: FromNapiValue>(ctx: &FunctionCallContext, i: usize) -> napi::Result<T> {
    ctx.get(i)
}

/// Argument `i`, `None` when it is missing, `undefined` or `null`.
pub fn opt_arg<T: FromNapiValue>(ctx: &FunctionCallContext, i: usize) -> napi::Result<Option<T>> {
    if i >= ctx.length() {
        return Ok(None);
    }
    ctx.get(i)
}

/// A JS value already made: what a closure returns when its result borrows the call's
/// `Env` (a closure's return type cannot name that lifetime). The only unsafe code of the
/// binding, and only napi-rs' own conversion: the value is made in the live `Env` of the
/// current call and handed back to that same call.
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
