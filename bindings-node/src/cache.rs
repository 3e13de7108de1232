//! `NativeCache`: the cache pattern on encoded values. `redkit.js` picks the `*Text`
//! methods for the JSON codec (JSON text crosses as a JS string, parsed by V8) and the
//! `*Bytes` methods for the bytes codec (Buffers).
//!
//! Every operation takes the operation id `redkit.js` allocated and returns at once; the
//! outcome arrives through the client's completion queue (see `completion.rs`). The
//! operations are reached through `functions()` (see `functions.rs`).

use std::sync::Arc;

use napi::bindgen_prelude::{BufferSlice, Object};
use napi::Env;
use napi_derive::napi;
use redkit::Error;

use crate::completion::{Completions, Outcome};
use crate::functions::{arg, opt_arg, Functions};
use crate::options::{set_options, SetOptions};

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

    /// Cache-aside whose loader is the JS loader of operation `id`.
    fn get_or_set(
        &self,
        id: u32,
        key: String,
        opts: Option<SetOptions>,
        done: fn(Vec<u8>) -> redkit::Result<Outcome>,
    ) {
        let cache = self.inner.clone();
        let completions = Arc::clone(&self.completions);
        self.completions.run(id, async move {
            let opts = set_options(opts)?;
            let raw = cache
                .get_or_set_bytes(&key, &opts, move || completions.load(id))
                .await?;
            done(raw)
        });
    }
}

fn text(raw: Vec<u8>) -> redkit::Result<Outcome> {
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
    /// Operation `id`: a fresh value as JSON text, or `null`.
    fn get_text(&self, id: u32, key: String) {
        let cache = self.inner.clone();
        self.completions.run(
            id,
            async move { or_null(cache.get_bytes(&key).await?, text) },
        );
    }

    /// Operation `id`: a fresh value's bytes, or `null`.
    fn get_bytes(&self, id: u32, key: String) {
        let cache = self.inner.clone();
        self.completions.run(
            id,
            async move { or_null(cache.get_bytes(&key).await?, bytes) },
        );
    }

    /// Operation `id`: write-through of JSON text.
    fn set_text(&self, id: u32, key: String, value: String, opts: Option<SetOptions>) {
        let cache = self.inner.clone();
        self.completions.run(id, async move {
            cache
                .set_bytes(&key, value.as_bytes(), &set_options(opts)?)
                .await?;
            Ok(Outcome::Unit)
        });
    }

    /// Operation `id`: write-through of bytes.
    fn set_bytes(&self, id: u32, key: String, value: Vec<u8>, opts: Option<SetOptions>) {
        let cache = self.inner.clone();
        self.completions.run(id, async move {
            cache.set_bytes(&key, &value, &set_options(opts)?).await?;
            Ok(Outcome::Unit)
        });
    }

    /// Operation `id`: delete entries; resolves to how many existed.
    fn delete(&self, id: u32, keys: Vec<String>) {
        let cache = self.inner.clone();
        self.completions.run(id, async move {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            Ok(count(cache.delete(&keys).await?))
        });
    }

    /// Operation `id`: invalidate every entry carrying any of `tags`; resolves to how many
    /// were deleted.
    fn invalidate_tags(&self, id: u32, tags: Vec<String>) {
        let cache = self.inner.clone();
        self.completions.run(id, async move {
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            Ok(count(cache.invalidate_tags(&tags).await?))
        });
    }
}

#[napi]
impl NativeCache {
    /// The operations as plain functions, each taking the operation id first.
    #[napi(
        catch_unwind,
        ts_return_type = "{ getText(id: number, key: string): void; getBytes(id: number, key: string): void; setText(id: number, key: string, value: string, opts?: SetOptions | null): void; setBytes(id: number, key: string, value: Buffer, opts?: SetOptions | null): void; delete(id: number, keys: string[]): void; invalidateTags(id: number, tags: string[]): void; getOrSetText(id: number, key: string, opts?: SetOptions | null): void; getOrSetBytes(id: number, key: string, opts?: SetOptions | null): void }"
    )]
    pub fn functions<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let c = || self.clone();
        let (c1, c2, c3, c4, c5, c6, c7, c8) = (c(), c(), c(), c(), c(), c(), c(), c());
        Ok(Functions::new(env)?
            .add("getText", move |x| {
                c1.get_text(arg(x, 0)?, arg(x, 1)?);
                Ok(())
            })?
            .add("getBytes", move |x| {
                c2.get_bytes(arg(x, 0)?, arg(x, 1)?);
                Ok(())
            })?
            .add("setText", move |x| {
                c3.set_text(arg(x, 0)?, arg(x, 1)?, arg(x, 2)?, opt_arg(x, 3)?);
                Ok(())
            })?
            .add("setBytes", move |x| {
                let value: BufferSlice = arg(x, 2)?;
                c4.set_bytes(arg(x, 0)?, arg(x, 1)?, value.to_vec(), opt_arg(x, 3)?);
                Ok(())
            })?
            .add("delete", move |x| {
                c5.delete(arg(x, 0)?, arg(x, 1)?);
                Ok(())
            })?
            .add("invalidateTags", move |x| {
                c6.invalidate_tags(arg(x, 0)?, arg(x, 1)?);
                Ok(())
            })?
            .add("getOrSetText", move |x| {
                c7.get_or_set(arg(x, 0)?, arg(x, 1)?, opt_arg(x, 2)?, text);
                Ok(())
            })?
            .add("getOrSetBytes", move |x| {
                c8.get_or_set(arg(x, 0)?, arg(x, 1)?, opt_arg(x, 2)?, bytes);
                Ok(())
            })?
            .finish())
    }
}
