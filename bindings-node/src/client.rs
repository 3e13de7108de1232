//! `NativeClient`: one connection (shared, multiplexed), the door to the patterns, and the
//! completion queue its cache and rate limit operations report through.

use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, Either, Unknown};
use napi_derive::napi;

use crate::cache::NativeCache;
use crate::completion::{Completions, Slot, Wake};
use crate::errors::js;
use crate::options::{CacheOptions, ConnectOptions, HealthReport};
use crate::ratelimit::{NativeRateLimiter, RateLimiterOpts};

/// The native client behind `Client` in `redkit.js`.
#[napi]
pub struct NativeClient {
    inner: redkit::Client,
    completions: Arc<Completions>,
}

#[napi]
impl NativeClient {
    /// Connect to `url` (`redis://`, `rediss://`, user, password and db in the URL).
    /// `wake` is called (without arguments) when operation outcomes are ready to take.
    #[napi(ts_args_type = "url: string, opts: ConnectOptions | undefined | null, wake: () => void")]
    pub async fn connect(
        url: String,
        opts: Option<ConnectOptions>,
        wake: Wake,
    ) -> napi::Result<NativeClient> {
        let opts = js(opts.unwrap_or_default().into_core())?;
        let inner = js(redkit::Client::connect_with(&url, opts).await)?;
        Ok(NativeClient {
            inner,
            completions: Completions::new(wake),
        })
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
    pub fn cache(
        &self,
        namespace: String,
        opts: Option<CacheOptions>,
    ) -> napi::Result<NativeCache> {
        let opts = js(opts.unwrap_or_default().into_core())?;
        let cache = js(self.inner.cache(&namespace).options(opts).build())?;
        Ok(NativeCache::new(cache, Arc::clone(&self.completions)))
    }

    /// A named rate limiter with its options; decisions report through the same queue.
    #[napi(
        catch_unwind,
        ts_args_type = "name: string, opts?: RateLimiterOptions | undefined | null"
    )]
    pub fn rate_limiter(
        &self,
        name: String,
        opts: Option<RateLimiterOpts>,
    ) -> napi::Result<NativeRateLimiter> {
        let opts = js(opts.unwrap_or_default().into_core())?;
        let limiter = js(self.inner.rate_limiter(&name).options(opts).build())?;
        Ok(NativeRateLimiter::new(
            limiter,
            Arc::clone(&self.completions),
        ))
    }

    /// Every operation outcome ready so far, flat: `[id, tag, value, ...]` with tag 0 (a
    /// value), 1 (an error) or 2 (run the operation's loader).
    #[napi(
        catch_unwind,
        ts_return_type = "Array<number | undefined | null | string | Buffer | Error>"
    )]
    pub fn take_completions(&self) -> Vec<Slot> {
        self.completions.take()
    }

    /// The loader of operation `id` produced this encoded value.
    #[napi(catch_unwind)]
    pub fn loader_resolved(&self, id: u32, value: Either<String, Buffer>) {
        let raw = match value {
            Either::A(text) => text.into_bytes(),
            Either::B(buf) => buf.to_vec(),
        };
        self.completions.settle_loader(id, Ok(raw));
    }

    /// The loader of operation `id` threw `error`; the operation fails with that very
    /// object (nothing is stored).
    #[napi(catch_unwind, ts_args_type = "id: number, error: unknown")]
    pub fn loader_rejected(&self, id: u32, error: Unknown) {
        let err = redkit::Error::loader(napi::Error::from(error));
        self.completions.settle_loader(id, Err(err));
    }
}
