//! Conversions between JS values and the core's types.

use js_sys::{Array, Uint8Array};
use redkit::{Cmd, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{invalid, message_of};

/// A command as the array a JS client takes: UTF-8 parts as strings, anything else as a
/// `Uint8Array`, so binary arguments survive.
pub fn cmd_to_js(cmd: &Cmd) -> Array {
    cmd.parts()
        .map(|part| match std::str::from_utf8(part) {
            Ok(s) => JsValue::from_str(s),
            Err(_) => Uint8Array::from(part).into(),
        })
        .collect()
}

/// A reply from a JS client (ioredis, node-redis, @upstash/redis, a function) as a core
/// [`Value`]. Binary-safe when the client returns `Uint8Array`/`Buffer` for bulk strings.
pub fn reply_from_js(v: &JsValue) -> Value {
    if v.is_null() || v.is_undefined() {
        return Value::Nil;
    }
    if let Some(s) = v.as_string() {
        return Value::Bulk(s.into_bytes());
    }
    if let Some(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if let Some(n) = v.as_f64() {
        return if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
            Value::Int(n as i64)
        } else {
            Value::Double(n)
        };
    }
    if let Some(big) = v.dyn_ref::<js_sys::BigInt>() {
        let text: String = big.to_string(10).map(String::from).unwrap_or_default();
        return match text.parse() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Bulk(text.into_bytes()), // beyond i64: a RESP3 big number
        };
    }
    if let Some(bytes) = v.dyn_ref::<Uint8Array>() {
        return Value::Bulk(bytes.to_vec());
    }
    if v.is_instance_of::<js_sys::Error>() {
        return Value::Error(message_of(v));
    }
    if Array::is_array(v) {
        return Value::Array(Array::from(v).iter().map(|x| reply_from_js(&x)).collect());
    }
    if let Some(map) = v.dyn_ref::<js_sys::Map>() {
        let mut pairs = Vec::new();
        map.for_each(&mut |value, key| pairs.push((reply_from_js(&key), reply_from_js(&value))));
        return Value::Map(pairs);
    }
    if let Some(set) = v.dyn_ref::<js_sys::Set>() {
        let mut items = Vec::new();
        set.for_each(&mut |value, _, _| items.push(reply_from_js(&value)));
        return Value::Array(items);
    }
    if v.is_object() {
        // node-redis (RESP3 maps, hGetAll) returns plain objects.
        let entries = js_sys::Object::entries(v.unchecked_ref());
        return Value::Map(
            entries
                .iter()
                .map(|pair| {
                    let pair = Array::from(&pair);
                    (reply_from_js(&pair.get(0)), reply_from_js(&pair.get(1)))
                })
                .collect(),
        );
    }
    Value::Error(format!("unsupported reply from the JS client: {v:?}"))
}

/// Bytes from a JS value the facade encoded: a string (UTF-8) or a `Uint8Array`.
pub fn bytes_from_js(v: &JsValue, what: &str) -> Result<Vec<u8>, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(s.into_bytes());
    }
    if let Some(b) = v.dyn_ref::<Uint8Array>() {
        return Ok(b.to_vec());
    }
    Err(invalid(format!(
        "{what} must be a string or a Uint8Array, got {}",
        message_of(v)
    )))
}
