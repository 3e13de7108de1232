//! The objects the JS facade drives. Async methods return a task id that the facade turns
//! into a Promise (see [`crate::host`]); errors are JS values from [`crate::errors`].

use std::sync::Arc;

use js_sys::{Function, Uint8Array};
use redkit::{Cache, CacheOptions, Client, Codec, ConnectOptions, SetOptions};
use wasm_bindgen::prelude::*;

use crate::adapter::AdapterTransport;
use crate::convert::{bytes_from_js, millis};
use crate::errors::to_js;
use crate::host::{spawn, JsHost};
use crate::rest::RestTransport;

/// A redkit client over one of the edge transports.
#[wasm_bindgen]
pub struct WasmClient {
    pub(crate) inner: Client,
}

#[wasm_bindgen]
impl WasmClient {
    /// `Client.rest({url, token, timeout, retries, retryBackoffMax, prefix})`.
    pub fn rest(
        url: &str,
        token: Option<String>,
        prefix: Option<String>,
        timeout_ms: Option<f64>,
        retries: Option<f64>,
        retry_backoff_max_ms: Option<f64>,
    ) -> Result<WasmClient, JsValue> {
        let mut opts = ConnectOptions::default();
        if let Some(p) = prefix {
            opts.prefix = p;
        }
        if let Some(t) = millis(timeout_ms, "timeout")? {
            opts.timeout = t;
        }
        if let Some(m) = millis(retry_backoff_max_ms, "retryBackoffMax")? {
            opts.retry_backoff_max = m;
        }
        if let Some(r) = retries {
            if !(r.is_finite() && r >= 0.0 && r.fract() == 0.0 && r <= 100.0) {
                return Err(crate::errors::invalid(format!(
                    "retries must be a whole number from 0 to 100, got {r}"
                )));
            }
            opts.retries = r as u32;
        }
        let prefix = opts.prefix.clone();
        let transport = RestTransport::new(url, token, opts).map_err(to_js)?;
        let inner = Client::from_transport(Arc::new(transport), &prefix).map_err(to_js)?;
        Ok(WasmClient { inner })
    }

    /// `Client.adapter(jsClient)`: `send` is the facade's `sendCommand(args)`.
    pub fn adapter(send: Function, prefix: Option<String>) -> Result<WasmClient, JsValue> {
        let prefix = prefix.unwrap_or_else(|| ConnectOptions::default().prefix);
        let inner = Client::from_transport(Arc::new(AdapterTransport::new(send)), &prefix)
            .map_err(to_js)?;
        Ok(WasmClient { inner })
    }

    /// The transport's name (`rest` or `adapter`).
    #[wasm_bindgen(getter)]
    pub fn transport(&self) -> String {
        self.inner.transport().name().to_string()
    }

    /// Round-trip a PING.
    pub fn ping(&self) -> u32 {
        let c = self.inner.clone();
        spawn(async move { c.ping().await.map(|_| JsValue::UNDEFINED).map_err(to_js) })
    }

    /// Stop sending.
    pub fn close(&self) -> u32 {
        let c = self.inner.clone();
        spawn(async move { c.close().await.map(|_| JsValue::UNDEFINED).map_err(to_js) })
    }

    /// `check()`: `{serverVersion, persistence, evictionPolicy, warnings}`.
    pub fn check(&self) -> u32 {
        let c = self.inner.clone();
        spawn(async move {
            let r = c.check().await.map_err(to_js)?;
            let o = js_sys::Object::new();
            let warnings: js_sys::Array = r.warnings.iter().map(|w| JsValue::from_str(w)).collect();
            js_sys::Reflect::set(&o, &"serverVersion".into(), &r.server_version.into())?;
            js_sys::Reflect::set(&o, &"persistence".into(), &r.persistence.into())?;
            js_sys::Reflect::set(&o, &"evictionPolicy".into(), &r.eviction_policy.into())?;
            js_sys::Reflect::set(&o, &"warnings".into(), &warnings)?;
            Ok(o.into())
        })
    }

    /// `client.cache(namespace, {ttl, jitter, staleTtl, earlyRefresh, lock, lockTimeout, codec})`.
    #[allow(clippy::too_many_arguments)]
    pub fn cache(
        &self,
        namespace: &str,
        ttl_ms: Option<f64>,
        jitter_ms: Option<f64>,
        stale_ttl_ms: Option<f64>,
        early_refresh: Option<f64>,
        lock: Option<bool>,
        lock_timeout_ms: Option<f64>,
        codec: Option<String>,
    ) -> Result<WasmCache, JsValue> {
        let mut opts = CacheOptions::default();
        if let Some(d) = millis(ttl_ms, "ttl")? {
            opts.ttl = d;
        }
        if let Some(d) = millis(jitter_ms, "jitter")? {
            opts.jitter = d;
        }
        if let Some(d) = millis(stale_ttl_ms, "staleTtl")? {
            opts.stale_ttl = d;
        }
        if let Some(b) = early_refresh {
            opts.early_refresh = b;
        }
        if let Some(l) = lock {
            opts.lock = l;
        }
        if let Some(d) = millis(lock_timeout_ms, "lockTimeout")? {
            opts.lock_timeout = d;
        }
        if let Some(c) = codec {
            opts.codec = Codec::parse(&c).map_err(to_js)?;
            if opts.codec == Codec::Msgpack {
                return Err(crate::errors::invalid(
                    "the msgpack codec is not in the edge build; use json or bytes",
                ));
            }
        }
        let inner = self
            .inner
            .cache(namespace)
            .options(opts)
            .build()
            .map_err(to_js)?;
        Ok(WasmCache { inner })
    }
}

/// One cache namespace; values cross as bytes, encoded by the facade (JSON by default).
#[wasm_bindgen]
pub struct WasmCache {
    inner: Cache,
}

fn set_options(ttl_ms: Option<f64>, tags: Vec<String>) -> Result<SetOptions, JsValue> {
    Ok(SetOptions {
        ttl: millis(ttl_ms, "ttl")?,
        tags,
    })
}

fn bytes_or_null(v: Option<Vec<u8>>) -> JsValue {
    v.map(|b| Uint8Array::from(b.as_slice()).into())
        .unwrap_or(JsValue::NULL)
}

#[wasm_bindgen]
impl WasmCache {
    /// A fresh value's bytes, or null.
    pub fn get(&self, key: String) -> u32 {
        let c = self.inner.clone();
        spawn(async move { c.get_bytes(&key).await.map(bytes_or_null).map_err(to_js) })
    }

    /// Write-through.
    pub fn set(
        &self,
        key: String,
        value: JsValue,
        ttl_ms: Option<f64>,
        tags: Vec<String>,
    ) -> Result<u32, JsValue> {
        let raw = bytes_from_js(&value, "value")?;
        let opts = set_options(ttl_ms, tags)?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            c.set_bytes(&key, &raw, &opts)
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(to_js)
        }))
    }

    /// Delete entries; resolves to how many existed.
    pub fn delete(&self, keys: Vec<String>) -> u32 {
        let c = self.inner.clone();
        spawn(async move {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            c.delete(&refs)
                .await
                .map(|n| JsValue::from_f64(n as f64))
                .map_err(to_js)
        })
    }

    /// Cache-aside; `loader` is a host function (see [`JsHost`]) that returns (a promise
    /// of) the encoded value, a string or bytes. `within` is the host call id of the loader
    /// this call is made from, if any (`js/loading.js`): the core refuses a loader asking
    /// for its own key.
    pub fn get_or_set(
        &self,
        key: String,
        loader: Function,
        ttl_ms: Option<f64>,
        tags: Vec<String>,
        within: Option<f64>,
    ) -> Result<u32, JsValue> {
        let opts = set_options(ttl_ms, tags)?;
        // Ids are whole numbers below 2^53 (they count loads); anything else names none.
        let within = within
            .filter(|w| w.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(w))
            .map(|w| w as u64);
        let c = self.inner.clone();
        let loader = JsHost::new(loader);
        Ok(spawn(async move {
            c.get_or_set_host_in(within, &key, &opts, loader)
                .await
                .map(|b| bytes_or_null(Some(b)))
                .map_err(to_js)
        }))
    }

    /// Invalidate every entry carrying any of `tags`; resolves to how many were deleted.
    pub fn invalidate_tags(&self, tags: Vec<String>) -> u32 {
        let c = self.inner.clone();
        spawn(async move {
            let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
            c.invalidate_tags(&refs)
                .await
                .map(|n| JsValue::from_f64(n as f64))
                .map_err(to_js)
        })
    }
}
