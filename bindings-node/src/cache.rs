//! `NativeCache`: the cache pattern on encoded values. `redkit.js` picks the `*Text`
//! methods for the JSON codec (JSON text crosses as a JS string, parsed by V8) and the
//! `*Bytes` methods for the bytes codec (Buffers).
//!
//! Every method takes the operation id `redkit.js` allocated and returns at once; the
//! outcome arrives through the client's completion queue (see `completion.rs`).

use std::sync::Arc;

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use redkit::Error;

use crate::completion::{Completions, Outcome};
use crate::options::{set_options, SetOptions};

/// The native cache behind `Cache` in `redkit.js`.
#[napi]
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

#[napi]
impl NativeCache {
    /// Operation `id`: a fresh value as JSON text, or `null`.
    #[napi(catch_unwind)]
    pub fn get_text(&self, id: u32, key: String) {
        let cache = self.inner.clone();
        self.completions.run(
            id,
            async move { or_null(cache.get_bytes(&key).await?, text) },
        );
    }

    /// Operation `id`: a fresh value's bytes, or `null`.
    #[napi(catch_unwind)]
    pub fn get_bytes(&self, id: u32, key: String) {
        let cache = self.inner.clone();
        self.completions.run(
            id,
            async move { or_null(cache.get_bytes(&key).await?, bytes) },
        );
    }

    /// Operation `id`: write-through of JSON text.
    #[napi(catch_unwind)]
    pub fn set_text(&self, id: u32, key: String, value: String, opts: Option<SetOptions>) {
        let cache = self.inner.clone();
        self.completions.run(id, async move {
            cache
                .set_bytes(&key, value.as_bytes(), &set_options(opts)?)
                .await?;
            Ok(Outcome::Unit)
        });
    }

    /// Operation `id`: write-through of bytes.
    #[napi(catch_unwind)]
    pub fn set_bytes(&self, id: u32, key: String, value: Buffer, opts: Option<SetOptions>) {
        let cache = self.inner.clone();
        let value = value.to_vec();
        self.completions.run(id, async move {
            cache.set_bytes(&key, &value, &set_options(opts)?).await?;
            Ok(Outcome::Unit)
        });
    }

    /// Operation `id`: delete entries; resolves to how many existed.
    #[napi(catch_unwind)]
    pub fn delete(&self, id: u32, keys: Vec<String>) {
        let cache = self.inner.clone();
        self.completions.run(id, async move {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            Ok(count(cache.delete(&keys).await?))
        });
    }

    /// Operation `id`: invalidate every entry carrying any of `tags`; resolves to how many
    /// were deleted.
    #[napi(catch_unwind)]
    pub fn invalidate_tags(&self, id: u32, tags: Vec<String>) {
        let cache = self.inner.clone();
        self.completions.run(id, async move {
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            Ok(count(cache.invalidate_tags(&tags).await?))
        });
    }

    /// Operation `id`: cache-aside; on a miss the JS loader of `id` runs (it must resolve
    /// to JSON text).
    #[napi(catch_unwind)]
    pub fn get_or_set_text(&self, id: u32, key: String, opts: Option<SetOptions>) {
        self.get_or_set(id, key, opts, text);
    }

    /// Operation `id`: cache-aside; on a miss the JS loader of `id` runs (it must resolve
    /// to a Buffer).
    #[napi(catch_unwind)]
    pub fn get_or_set_bytes(&self, id: u32, key: String, opts: Option<SetOptions>) {
        self.get_or_set(id, key, opts, bytes);
    }
}
