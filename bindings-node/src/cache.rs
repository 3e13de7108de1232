//! `NativeCache`: the cache pattern on encoded values. `redkit.js` picks the `*Text`
//! methods for the JSON codec (JSON text crosses as a JS string, parsed by V8) and the
//! `*Bytes` methods for the bytes codec (Buffers).

use napi::bindgen_prelude::{Buffer, FromNapiValue, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;
use redkit::Error;

use crate::errors::js;
use crate::options::{set_options, SetOptions};

/// A JavaScript loader as Rust calls it: no arguments, returns a promise of the encoded
/// value. Not callee-handled: it is called as `loader()`, not node-style.
type Loader<T> = ThreadsafeFunction<(), Promise<T>, (), Status, false>;

/// The native cache behind `Cache` in `redkit.js`.
#[napi]
pub struct NativeCache {
    inner: redkit::Cache,
}

impl NativeCache {
    pub(crate) fn new(inner: redkit::Cache) -> Self {
        NativeCache { inner }
    }

    /// `get_or_set_bytes` with a JavaScript loader. A loader that throws or rejects fails
    /// with `Error::Loader` holding the JavaScript error, which `errors::to_js` hands back.
    async fn get_or_set_with<T>(
        &self,
        key: String,
        loader: Loader<T>,
        opts: Option<SetOptions>,
        into_bytes: fn(T) -> Vec<u8>,
    ) -> redkit::Result<Vec<u8>>
    where
        T: FromNapiValue + Send + 'static,
    {
        let opts = set_options(opts)?;
        self.inner
            .get_or_set_bytes(&key, &opts, move || async move {
                let pending = loader.call_async_catch(()).await.map_err(Error::loader)?;
                let value = pending.await.map_err(Error::loader)?;
                Ok(into_bytes(value))
            })
            .await
    }
}

fn utf8(raw: Vec<u8>) -> redkit::Result<String> {
    String::from_utf8(raw).map_err(|_| Error::Decode("cached value is not UTF-8 JSON text".into()))
}

#[napi]
impl NativeCache {
    /// A fresh value as JSON text, or `null`.
    #[napi]
    pub async fn get_text(&self, key: String) -> napi::Result<Option<String>> {
        js(async { self.inner.get_bytes(&key).await?.map(utf8).transpose() }.await)
    }

    /// A fresh value's bytes, or `null`.
    #[napi]
    pub async fn get_bytes(&self, key: String) -> napi::Result<Option<Buffer>> {
        js(self.inner.get_bytes(&key).await).map(|v| v.map(Buffer::from))
    }

    /// Write-through of JSON text.
    #[napi]
    pub async fn set_text(&self, key: String, value: String, opts: Option<SetOptions>) -> napi::Result<()> {
        js(async { self.inner.set_bytes(&key, value.as_bytes(), &set_options(opts)?).await }.await)
    }

    /// Write-through of bytes.
    #[napi]
    pub async fn set_bytes(&self, key: String, value: Buffer, opts: Option<SetOptions>) -> napi::Result<()> {
        js(async { self.inner.set_bytes(&key, &value, &set_options(opts)?).await }.await)
    }

    /// Delete entries; resolves to how many existed.
    #[napi]
    pub async fn delete(&self, keys: Vec<String>) -> napi::Result<i64> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        js(self.inner.delete(&keys).await).map(|n| n as i64)
    }

    /// Invalidate every entry carrying any of `tags`; resolves to how many were deleted.
    #[napi]
    pub async fn invalidate_tags(&self, tags: Vec<String>) -> napi::Result<i64> {
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        js(self.inner.invalidate_tags(&tags).await).map(|n| n as i64)
    }

    /// Cache-aside with a loader that resolves to JSON text.
    #[napi(ts_args_type = "key: string, loader: () => Promise<string>, opts?: SetOptions | undefined | null")]
    pub async fn get_or_set_text(&self, key: String, loader: Loader<String>, opts: Option<SetOptions>) -> napi::Result<String> {
        js(async { utf8(self.get_or_set_with(key, loader, opts, String::into_bytes).await?) }.await)
    }

    /// Cache-aside with a loader that resolves to a Buffer.
    #[napi(ts_args_type = "key: string, loader: () => Promise<Buffer>, opts?: SetOptions | undefined | null")]
    pub async fn get_or_set_bytes(&self, key: String, loader: Loader<Buffer>, opts: Option<SetOptions>) -> napi::Result<Buffer> {
        js(self.get_or_set_with(key, loader, opts, |b| b.to_vec()).await).map(Buffer::from)
    }
}
