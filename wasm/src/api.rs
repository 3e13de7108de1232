//! The objects the JS facade drives. Async methods return a task id that the facade turns
//! into a Promise (see [`crate::host`]); errors are JS values from [`crate::errors`].

use std::sync::Arc;

use js_sys::{Function, Uint8Array};
use redkit::{Cache, CacheOptions, Client, Codec, ConnectOptions, SetOptions};
use wasm_bindgen::prelude::*;

use crate::adapter::AdapterTransport;
use crate::convert::bytes_from_js;
use crate::errors::to_js;
use crate::host::{spawn, JsHost};
use crate::options::{read, text, texts};
use crate::rest::RestTransport;

/// A redkit client over one of the edge transports.
#[wasm_bindgen]
pub struct WasmClient {
    pub(crate) inner: Client,
}

#[wasm_bindgen]
impl WasmClient {
    /// `Client.rest({url, token, ...connection options})`: `opts` holds the connection
    /// options (the facade takes `url` and `token` out), read by the core.
    pub fn rest(url: &str, token: Option<String>, opts: JsValue) -> Result<WasmClient, JsValue> {
        let opts: ConnectOptions = read("Client.rest options", &opts)?;
        let prefix = opts.prefix.clone();
        let transport = RestTransport::new(url, token, opts).map_err(to_js)?;
        let inner = Client::from_transport(Arc::new(transport), &prefix).map_err(to_js)?;
        Ok(WasmClient { inner })
    }

    /// `Client.adapter(jsClient, opts)`: `send` is the facade's `sendCommand(args)`; `opts`
    /// the connection options (the adapter's own client owns the connection: only `prefix`
    /// applies), read by the core.
    pub fn adapter(send: Function, opts: JsValue) -> Result<WasmClient, JsValue> {
        let opts: ConnectOptions = read("Client.adapter options", &opts)?;
        let inner = Client::from_transport(Arc::new(AdapterTransport::new(send)), &opts.prefix)
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

    /// Where this client's incident reports go (see `redkit::incidents`): `report` is
    /// called with each report's JSON text, on the JS thread, inside the decision it
    /// reports; the facade defers the user's hook to a microtask.
    pub fn on_incident(&self, report: Function) {
        self.inner
            .set_reporter(Some(Arc::new(move |i: &redkit::incidents::Incident| {
                let _ = report.call1(&JsValue::NULL, &JsValue::from_str(&i.to_json()));
            })));
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

    /// `client.cache(namespace, opts)`, the options read by the core. A near cache needs
    /// Redis' key-tracking pushes, which REST and adapter transports cannot receive: with
    /// them every read goes to Redis, as on any transport without tracking.
    pub fn cache(&self, namespace: JsValue, opts: JsValue) -> Result<WasmCache, JsValue> {
        let namespace = text(&namespace, "namespace")?;
        let opts: CacheOptions = read("cache options", &opts)?;
        if opts.codec == Codec::Msgpack {
            return Err(crate::errors::invalid(
                "the msgpack codec is not in the edge build; use json or bytes",
            ));
        }
        let inner = self
            .inner
            .cache(&namespace)
            .options(opts)
            .build()
            .map_err(to_js)?;
        Ok(WasmCache { inner })
    }
}

/// One cache namespace; values cross as bytes, encoded by the facade (JSON by default).
#[wasm_bindgen]
pub struct WasmCache {
    pub(crate) inner: Cache,
}

/// Options of one write (`{ ttl, tags }`), read by the core.
fn set_options(opts: &JsValue) -> Result<SetOptions, JsValue> {
    read("set options", opts)
}

pub(crate) fn bytes_or_null(v: Option<Vec<u8>>) -> JsValue {
    v.map(|b| Uint8Array::from(b.as_slice()).into())
        .unwrap_or(JsValue::NULL)
}

#[wasm_bindgen]
impl WasmCache {
    /// A fresh value's bytes, or null.
    pub fn get(&self, key: JsValue) -> Result<u32, JsValue> {
        let key = text(&key, "key")?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            c.get_bytes(&key).await.map(bytes_or_null).map_err(to_js)
        }))
    }

    /// Write-through.
    pub fn set(&self, key: JsValue, value: JsValue, opts: JsValue) -> Result<u32, JsValue> {
        let key = text(&key, "key")?;
        let raw = bytes_from_js(&value, "value")?;
        let opts = set_options(&opts)?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            c.set_bytes(&key, &raw, &opts)
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(to_js)
        }))
    }

    /// Delete entries; resolves to how many existed.
    pub fn delete(&self, keys: JsValue) -> Result<u32, JsValue> {
        let keys = texts(&keys, "keys")?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            c.delete(&refs)
                .await
                .map(|n| JsValue::from_f64(n as f64))
                .map_err(to_js)
        }))
    }

    /// Cache-aside; `loader` is a host function (see [`JsHost`]) that returns (a promise
    /// of) the encoded value, a string or bytes. `within` is the host call id of the loader
    /// this call is made from, if any (`js/loading.js`): the core refuses a loader asking
    /// for its own key.
    pub fn get_or_set(
        &self,
        key: JsValue,
        loader: Function,
        opts: JsValue,
        within: Option<f64>,
    ) -> Result<u32, JsValue> {
        let key = text(&key, "key")?;
        let opts = set_options(&opts)?;
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
    pub fn invalidate_tags(&self, tags: JsValue) -> Result<u32, JsValue> {
        let tags = texts(&tags, "tags")?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
            c.invalidate_tags(&refs)
                .await
                .map(|n| JsValue::from_f64(n as f64))
                .map_err(to_js)
        }))
    }
}
