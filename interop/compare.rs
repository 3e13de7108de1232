//! Exact comparison of JSON values, shared by the Rust producer and worker.

use serde::Deserialize;
use serde_json::Value;

/// One job of the matrix's batch.
#[derive(Deserialize)]
pub struct Case {
    /// The job name.
    pub name: String,
    /// The job data.
    pub data: Value,
}

/// The matrix's batch (`INTEROP_BATCH`), or nothing outside the matrix.
pub fn batch() -> Vec<Case> {
    let Ok(path) = std::env::var("INTEROP_BATCH") else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(path).expect("the batch file");
    serde_json::from_str(&text).expect("the batch is JSON")
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.len() <= 80 {
        text
    } else {
        let cut = (0..=60)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}... ({} bytes)", &text[..cut], text.len())
    }
}

/// Where `got` differs from `want`, or None. Numbers compare with their kind: an integer
/// is not equal to the float of the same value.
pub fn difference(want: &Value, got: &Value, path: &str) -> Option<String> {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            if a.len() != b.len() || a.keys().any(|k| !b.contains_key(k)) {
                return Some(format!("{path}: keys {:?} became {:?}", a.keys(), b.keys()));
            }
            a.iter()
                .find_map(|(k, v)| difference(v, &b[k], &format!("{path}.{k}")))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| difference(x, y, &format!("{path}[{i}]"))),
        _ if want == got => None,
        _ => Some(format!("{path}: {} became {}", short(want), short(got))),
    }
}
