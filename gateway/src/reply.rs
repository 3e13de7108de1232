//! Redis replies as the JSON the Upstash protocol uses: integers stay numbers, nil is null,
//! arrays nest, and with `Upstash-Encoding: base64` every string is base64 so binary values
//! survive JSON.

use crate::error::server_error_text;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use redis::Value;
use serde_json::{json, Value as Json};

/// How strings are written in results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// As UTF-8 text (invalid bytes replaced).
    Text,
    /// As standard base64, except the status `OK`, which the Upstash clients expect verbatim.
    Base64,
}

impl Encoding {
    fn string(self, bytes: &[u8]) -> Json {
        match self {
            Encoding::Text => Json::String(String::from_utf8_lossy(bytes).into_owned()),
            Encoding::Base64 => Json::String(STANDARD.encode(bytes)),
        }
    }
}

/// One result in JSON.
pub fn to_json(value: Value, encoding: Encoding) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::Int(i) => json!(i),
        Value::Okay => json!("OK"),
        Value::BulkString(bytes) => encoding.string(&bytes),
        Value::SimpleString(s) => encoding.string(s.as_bytes()),
        Value::VerbatimString { text, .. } => encoding.string(text.as_bytes()),
        Value::BigNumber(n) => encoding.string(n.as_ref()),
        Value::Array(items) | Value::Set(items) | Value::Push { data: items, .. } => {
            Json::Array(items.into_iter().map(|v| to_json(v, encoding)).collect())
        }
        // RESP2 has no maps: flatten like Redis does for RESP2 clients (HGETALL's k, v, ...).
        Value::Map(pairs) => Json::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [to_json(k, encoding), to_json(v, encoding)])
                .collect(),
        ),
        Value::Attribute { data, .. } => to_json(*data, encoding),
        Value::Double(d) => serde_json::Number::from_f64(d)
            .map(Json::Number)
            .unwrap_or_else(|| json!(d.to_string())),
        Value::Boolean(b) => json!(i64::from(b)),
        // An error nested inside a result (a script returning an error table in an array).
        Value::ServerError(e) => json!({ "error": server_error_text(&e) }),
        other => json!({ "error": format!("ERR unsupported reply: {other:?}") }),
    }
}

/// One pipeline or transaction item: `{"result": ...}` or `{"error": "..."}`.
pub fn item_json(value: Value, encoding: Encoding) -> Json {
    match value {
        Value::ServerError(e) => json!({ "error": server_error_text(&e) }),
        other => json!({ "result": to_json(other, encoding) }),
    }
}
