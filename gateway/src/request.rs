//! Turns request bodies and paths into Redis commands (lists of byte-string arguments).

use crate::error::ApiError;
use percent_encoding::percent_decode_str;
use serde_json::Value as Json;

/// One Redis command: name first, then its arguments, as bytes.
pub type Command = Vec<Vec<u8>>;

/// `POST /` body: one JSON array, `["SET", "k", "v"]`.
pub fn single(body: &[u8]) -> Result<Command, ApiError> {
    command(&parse(body)?)
}

/// `POST /pipeline` and `/multi-exec` body: an array of commands, `[["SET","k","v"],["GET","k"]]`.
pub fn batch(body: &[u8]) -> Result<Vec<Command>, ApiError> {
    match parse(body)? {
        Json::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                command(item).map_err(|e| {
                    ApiError::bad_request(format!("{} (command {})", e.message(), i + 1))
                })
            })
            .collect(),
        Json::Array(_) => Err(ApiError::bad_request(
            "ERR empty batch: send at least one command",
        )),
        _ => Err(ApiError::bad_request(
            "ERR the body must be a JSON array of commands, e.g. [[\"GET\",\"k\"]]",
        )),
    }
}

/// The path form, `/set/k/v?EX=100`: each path segment (percent-decoded) is an argument, then
/// each query parameter as its name and, if it has one, its value, then the request body if
/// any (so a large or binary value can be POSTed: `POST /set/k` with the value as body).
pub fn from_path(path: &str, query: Option<&str>, body: &[u8]) -> Command {
    let segments = path.strip_prefix('/').unwrap_or(path).split('/');
    let mut cmd: Command = segments.map(|s| percent_decode_str(s).collect()).collect();
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        cmd.push(name.as_bytes().to_vec());
        if !value.is_empty() {
            cmd.push(value.as_bytes().to_vec());
        }
    }
    if !body.is_empty() {
        cmd.push(body.to_vec());
    }
    cmd
}

/// Whether a path's first segment could name a Redis command (`get`, `JSON.SET`, `FT.SEARCH`);
/// anything else is an unknown path, not a command to try.
pub fn looks_like_command(path: &str) -> bool {
    let name = path
        .strip_prefix('/')
        .unwrap_or(path)
        .split('/')
        .next()
        .unwrap_or("");
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn parse(body: &[u8]) -> Result<Json, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("ERR malformed JSON body: {e}")))
}

fn command(json: &Json) -> Result<Command, ApiError> {
    let Json::Array(items) = json else {
        return Err(ApiError::bad_request(
            "ERR a command must be a JSON array, e.g. [\"GET\",\"k\"]",
        ));
    };
    if items.is_empty() {
        return Err(ApiError::bad_request("ERR empty command"));
    }
    items
        .iter()
        .map(|arg| match arg {
            Json::String(s) => Ok(s.as_bytes().to_vec()),
            Json::Number(n) => Ok(n.to_string().into_bytes()),
            Json::Bool(b) => Ok(b.to_string().into_bytes()),
            other => Err(ApiError::bad_request(format!(
                "ERR command arguments must be strings or numbers, got {other}"
            ))),
        })
        .collect()
}
