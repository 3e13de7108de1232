//! `NativeClient`: one connection (shared, multiplexed) and the door to the patterns.

use napi_derive::napi;

use crate::cache::NativeCache;
use crate::errors::js;
use crate::options::{CacheOptions, ConnectOptions, HealthReport};

/// The native client behind `Client` in `redkit.js`.
#[napi]
pub struct NativeClient {
    inner: redkit::Client,
}

#[napi]
impl NativeClient {
    /// Connect to `url` (`redis://`, `rediss://`, user, password and db in the URL).
    #[napi]
    pub async fn connect(url: String, opts: Option<ConnectOptions>) -> napi::Result<NativeClient> {
        let opts = js(opts.unwrap_or_default().into_core())?;
        let inner = js(redkit::Client::connect_with(&url, opts).await)?;
        Ok(NativeClient { inner })
    }

    /// Round-trip a PING.
    #[napi]
    pub async fn ping(&self) -> napi::Result<()> {
        js(self.inner.ping().await)
    }

    /// Close the connection; later calls fail with `Closed`.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        js(self.inner.close().await)
    }

    /// Server version, persistence, eviction policy and warnings.
    #[napi]
    pub async fn check(&self) -> napi::Result<HealthReport> {
        js(self.inner.check().await).map(HealthReport::from)
    }

    /// The key prefix of this client.
    #[napi(getter)]
    pub fn prefix(&self) -> String {
        self.inner.prefix().to_string()
    }

    /// A cache namespace with its options.
    #[napi(catch_unwind)]
    pub fn cache(&self, namespace: String, opts: Option<CacheOptions>) -> napi::Result<NativeCache> {
        let opts = js(opts.unwrap_or_default().into_core())?;
        let cache = js(self.inner.cache(&namespace).options(opts).build())?;
        Ok(NativeCache::new(cache))
    }
}
