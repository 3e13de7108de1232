//! The everyday cache operations of [`WasmCache`] (`get_many`, `set_many`, `exists`,
//! `ttl`, `touch`, `incr`, `clear`, `stats`); `delete_many` is the facade's `delete`. Values
//! cross as bytes, encoded and decoded by the facade; every rule is the core's.

use js_sys::{Array, Object, Reflect};
use redkit::input;
use redkit::{Dialect, SetOptions};
use wasm_bindgen::prelude::*;

use crate::api::{bytes_or_null, WasmCache};
use crate::convert::bytes_from_js;
use crate::errors::to_js;
use crate::host::spawn;
use crate::options::{self, read, text, texts};

fn number(n: impl Into<f64>) -> JsValue {
    JsValue::from_f64(n.into())
}

#[wasm_bindgen]
impl WasmCache {
    /// Each key's fresh value's bytes or null, in order: one MGET.
    pub fn get_many(&self, keys: JsValue) -> Result<u32, JsValue> {
        let keys = texts(&keys, "keys")?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let values = c.get_many_bytes(&refs).await.map_err(to_js)?;
            Ok(values
                .into_iter()
                .map(bytes_or_null)
                .collect::<Array>()
                .into())
        }))
    }

    /// Store each key's encoded value (a string or bytes) under the same `{ ttl, tags }`.
    pub fn set_many(&self, keys: JsValue, values: JsValue, opts: JsValue) -> Result<u32, JsValue> {
        let keys = texts(&keys, "keys")?;
        let values: Vec<Vec<u8>> = Array::from(&values)
            .iter()
            .map(|v| bytes_from_js(&v, "value"))
            .collect::<Result<_, _>>()?;
        let opts: SetOptions = read("set options", &opts)?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            let entries: Vec<(&str, &[u8])> = keys
                .iter()
                .map(String::as_str)
                .zip(values.iter().map(Vec::as_slice))
                .collect();
            c.set_many_bytes(&entries, &opts)
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(to_js)
        }))
    }

    /// Whether the key holds a fresh entry.
    pub fn exists(&self, key: JsValue) -> Result<u32, JsValue> {
        let key = text(&key, "key")?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            c.exists(&key).await.map(JsValue::from).map_err(to_js)
        }))
    }

    /// The ms the entry stays fresh, or null.
    pub fn ttl(&self, key: JsValue) -> Result<u32, JsValue> {
        let key = text(&key, "key")?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            let left = c.ttl(&key).await.map_err(to_js)?;
            Ok(left.map_or(JsValue::NULL, |d| number(d.as_millis() as f64)))
        }))
    }

    /// Keep a fresh entry fresh for `ttl` from now; whether there was one.
    pub fn touch(&self, key: JsValue, ttl: JsValue) -> Result<u32, JsValue> {
        let key = text(&key, "key")?;
        let ttl = input::duration("ttl", options::input(&ttl), Dialect::JS).map_err(to_js)?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            c.touch(&key, ttl).await.map(JsValue::from).map_err(to_js)
        }))
    }

    /// Add `by` to a counter (made with `opts.ttl` when there is none); its new value.
    pub fn incr(&self, key: JsValue, by: JsValue, opts: JsValue) -> Result<u32, JsValue> {
        let key = text(&key, "key")?;
        let by = redkit::cache::incr_amount(options::input(&by)).map_err(to_js)?;
        let ttl = redkit::cache::incr_ttl(read("incr options", &opts)?).map_err(to_js)?;
        let c = self.inner.clone();
        Ok(spawn(async move {
            let n = c.incr(&key, by, ttl).await.map_err(to_js)?;
            Ok(number(n as f64))
        }))
    }

    /// Delete every entry of the namespace; how many went.
    pub fn clear(&self) -> u32 {
        let c = self.inner.clone();
        spawn(async move {
            let n = c.clear().await.map_err(to_js)?;
            Ok(number(n as f64))
        })
    }

    /// `{ hits, misses, staleServes, nearHits, loaderCalls, errors }` since this cache was
    /// made.
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        let s = self.inner.stats();
        let o = Object::new();
        for (name, n) in [
            ("hits", s.hits),
            ("misses", s.misses),
            ("staleServes", s.stale_serves),
            ("nearHits", s.near_hits),
            ("loaderCalls", s.loader_calls),
            ("errors", s.errors),
        ] {
            Reflect::set(&o, &name.into(), &number(n as f64))?;
        }
        Ok(o.into())
    }
}
