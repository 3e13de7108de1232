//! `NativeCache`: the cache pattern on encoded values. `redkit.js` picks the `*Text`
//! methods for the JSON codec (JSON text crosses as a JS string, parsed by V8) and the
//! `*Bytes` methods for the bytes codec (Buffers).
//!
//! Every operation takes the operation id `dispatch.js` allocated (a [`Start`]) and
//! returns at once; the outcome arrives through the client's completion queue (see
//! `completion.rs`). The operations are reached through `functions()` (see
//! `functions.rs`).

mod ops;

use std::sync::Arc;

use napi::bindgen_prelude::{BufferSlice, Object};
use napi::Env;
use napi_derive::napi;
use redkit::Error;

use crate::completion::{Completions, HostTarget, Outcome, Start};
use crate::functions::{arg, opt_arg, string_arg, Functions, Made};
use crate::host::JsHost;
use crate::options::{set_options, Js};

/// The native cache behind `Cache` in `redkit.js`.
#[napi]
#[derive(Clone)]
pub struct NativeCache {
    inner: redkit::Cache,
    completions: Arc<Completions>,
}

impl NativeCache {
    pub(crate) fn new(inner: redkit::Cache, completions: Arc<Completions>) -> Self {
        NativeCache { inner, completions }
    }

    /// Cache-aside whose loader is the JS loader of the operation (see `host.rs`).
    /// `within` is the host call (a loader's) this call is made from, if any.
    fn get_or_set(
        &self,
        env: &Env,
        op: Start,
        key: String,
        opts: Option<Js>,
        within: Option<u32>,
        done: fn(Vec<u8>) -> redkit::Result<Outcome>,
    ) -> napi::Result<Made> {
        let cache = self.inner.clone();
        // Now, not when the operation first runs: that loader may have ended by then.
        let within = within.and_then(|w| self.completions.load_of(w));
        let loader = JsHost::new(Arc::clone(&self.completions), HostTarget::Loader(op.id));
        self.completions.start(env, op, async move {
            let opts = set_options(opts)?;
            let raw = cache
                .get_or_set_host_in(within, &key, &opts, loader)
                .await?;
            done(raw)
        })
    }
}

/// JSON text: checked to be ASCII (most JSON is, and ASCII is valid UTF-8) or else UTF-8.
fn text(raw: Vec<u8>) -> redkit::Result<Outcome> {
    if raw.is_ascii() {
        return Ok(Outcome::Ascii(raw));
    }
    String::from_utf8(raw)
        .map(Outcome::Text)
        .map_err(|_| Error::Decode("cached value is not UTF-8 JSON text".into()))
}

fn bytes(raw: Vec<u8>) -> redkit::Result<Outcome> {
    Ok(Outcome::Bytes(raw))
}

fn or_null(
    raw: Option<Vec<u8>>,
    f: fn(Vec<u8>) -> redkit::Result<Outcome>,
) -> redkit::Result<Outcome> {
    raw.map_or(Ok(Outcome::Null), f)
}

fn count(n: u64) -> Outcome {
    Outcome::Count(u32::try_from(n).unwrap_or(u32::MAX))
}

impl NativeCache {
    /// A fresh value as JSON text, or `null`.
    fn get_text(&self, env: &Env, op: Start, key: String) -> napi::Result<Made> {
        let cache = self.inner.clone();
        self.completions.start(env, op, async move {
            or_null(cache.get_bytes(&key).await?, text)
        })
    }

    /// A fresh value's bytes, or `null`.
    fn get_bytes(&self, env: &Env, op: Start, key: String) -> napi::Result<Made> {
        let cache = self.inner.clone();
        self.completions.start(env, op, async move {
            or_null(cache.get_bytes(&key).await?, bytes)
        })
    }

    /// Write-through of JSON text.
    fn set_text(
        &self,
        env: &Env,
        op: Start,
        key: String,
        value: String,
        opts: Option<Js>,
    ) -> napi::Result<Made> {
        let cache = self.inner.clone();
        self.completions.start(env, op, async move {
            cache
                .set_bytes(&key, value.as_bytes(), &set_options(opts)?)
                .await?;
            Ok(Outcome::Unit)
        })
    }

    /// Write-through of bytes.
    fn set_bytes(
        &self,
        env: &Env,
        op: Start,
        key: String,
        value: Vec<u8>,
        opts: Option<Js>,
    ) -> napi::Result<Made> {
        let cache = self.inner.clone();
        self.completions.start(env, op, async move {
            cache.set_bytes(&key, &value, &set_options(opts)?).await?;
            Ok(Outcome::Unit)
        })
    }

    /// Delete entries; resolves to how many existed.
    fn delete(&self, env: &Env, op: Start, keys: Js) -> napi::Result<Made> {
        let keys = keys.texts("keys")?;
        let cache = self.inner.clone();
        self.completions.start(env, op, async move {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            Ok(count(cache.delete(&keys).await?))
        })
    }

    /// Invalidate every entry carrying any of `tags`; resolves to how many were deleted.
    fn invalidate_tags(&self, env: &Env, op: Start, tags: Js) -> napi::Result<Made> {
        let tags = tags.texts("tags")?;
        let cache = self.inner.clone();
        self.completions.start(env, op, async move {
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            Ok(count(cache.invalidate_tags(&tags).await?))
        })
    }
}

#[napi]
impl NativeCache {
    /// The operations as plain functions, each taking its [`Start`] first and returning
    /// what it asks for (see `Completions::start`).
    #[napi(
        catch_unwind,
        ts_return_type = "{ getText(op: number, key: string): unknown; getBytes(op: number, key: string): unknown; setText(op: number, key: string, value: string, opts?: unknown): unknown; setBytes(op: number, key: string, value: Buffer, opts?: unknown): unknown; delete(op: number, keys: string[]): unknown; invalidateTags(op: number, tags: string[]): unknown; getOrSetText(op: number, key: string, opts?: unknown, within?: number): unknown; getOrSetBytes(op: number, key: string, opts?: unknown, within?: number): unknown }"
    )]
    pub fn functions<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let c = || self.clone();
        let (c1, c2, c3, c4, c5, c6, c7, c8) = (c(), c(), c(), c(), c(), c(), c(), c());
        Ok(Functions::new(env)?
            .add("getText", move |x| {
                c1.get_text(x.env, arg(x, 0)?, string_arg(x, 1)?)
            })?
            .add("getBytes", move |x| {
                c2.get_bytes(x.env, arg(x, 0)?, string_arg(x, 1)?)
            })?
            .add("setText", move |x| {
                c3.set_text(
                    x.env,
                    arg(x, 0)?,
                    string_arg(x, 1)?,
                    arg(x, 2)?,
                    opt_arg(x, 3)?,
                )
            })?
            .add("setBytes", move |x| {
                let value: BufferSlice = arg(x, 2)?;
                c4.set_bytes(
                    x.env,
                    arg(x, 0)?,
                    string_arg(x, 1)?,
                    value.to_vec(),
                    opt_arg(x, 3)?,
                )
            })?
            .add("delete", move |x| c5.delete(x.env, arg(x, 0)?, arg(x, 1)?))?
            .add("invalidateTags", move |x| {
                c6.invalidate_tags(x.env, arg(x, 0)?, arg(x, 1)?)
            })?
            .add("getOrSetText", move |x| {
                c7.get_or_set(
                    x.env,
                    arg(x, 0)?,
                    string_arg(x, 1)?,
                    opt_arg(x, 2)?,
                    opt_arg(x, 3)?,
                    text,
                )
            })?
            .add("getOrSetBytes", move |x| {
                c8.get_or_set(
                    x.env,
                    arg(x, 0)?,
                    string_arg(x, 1)?,
                    opt_arg(x, 2)?,
                    opt_arg(x, 3)?,
                    bytes,
                )
            })?
            .finish())
    }
}
