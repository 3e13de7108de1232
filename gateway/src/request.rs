//! Turns request bodies and paths into Redis commands (lists of byte-string arguments).
//!
//! Arguments are read from the JSON text itself ([`RawValue`]) rather than from parsed
//! `serde_json::Value`s, for two reasons: a number reaches Redis exactly as the client wrote
//! it (`1e2` stays `1e2`, `18446744073709551616` is not rounded to a float), and a batch is
//! turned into commands one at a time, so a body of many tiny commands never exists as a
//! tree of JSON values (which cost ~100 times the body's size) and a batch over the command
//! cap is refused as soon as its first extra command is seen.

use crate::error::ApiError;
use axum::http::StatusCode;
use percent_encoding::percent_decode_str;
use serde::de::{DeserializeSeed, Error as _, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::value::RawValue;
use std::fmt;

/// One Redis command: name first, then its arguments, as bytes.
pub type Command = Vec<Vec<u8>>;

/// `POST /` body: one JSON array, `["SET", "k", "v"]`.
pub fn single(body: &[u8]) -> Result<Command, ApiError> {
    let json = parse(body)?;
    command(json)
}

/// `POST /pipeline` and `/multi-exec` body: an array of commands, `[["SET","k","v"],["GET","k"]]`,
/// at most `max_commands` of them (more: 413).
pub fn batch(body: &[u8], max_commands: usize) -> Result<Vec<Command>, ApiError> {
    let json = parse(body)?;
    if !json.get().trim_start().starts_with('[') {
        return Err(ApiError::bad_request(
            "ERR the body must be a JSON array of commands, e.g. [[\"GET\",\"k\"]]",
        ));
    }
    let mut failure = None;
    let seed = BatchSeed {
        max_commands,
        failure: &mut failure,
    };
    let mut de = serde_json::Deserializer::from_str(json.get());
    match seed.deserialize(&mut de) {
        Ok(cmds) if cmds.is_empty() => Err(ApiError::bad_request(
            "ERR empty batch: send at least one command",
        )),
        Ok(cmds) => Ok(cmds),
        // The body is valid JSON (checked above): only our own refusals end up here.
        Err(e) => Err(failure.unwrap_or_else(|| ApiError::bad_request(format!("ERR {e}")))),
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

/// The body as one valid JSON value, still as text.
fn parse(body: &[u8]) -> Result<&RawValue, ApiError> {
    let malformed =
        |e: &dyn fmt::Display| ApiError::bad_request(format!("ERR malformed JSON body: {e}"));
    let text = std::str::from_utf8(body).map_err(|e| malformed(&e))?;
    serde_json::from_str(text).map_err(|e| malformed(&e))
}

/// One command from its JSON text (known to be valid JSON).
fn command(json: &RawValue) -> Result<Command, ApiError> {
    if !json.get().trim_start().starts_with('[') {
        return Err(ApiError::bad_request(
            "ERR a command must be a JSON array, e.g. [\"GET\",\"k\"]",
        ));
    }
    let items: Vec<&RawValue> =
        serde_json::from_str(json.get()).map_err(|e| ApiError::bad_request(format!("ERR {e}")))?;
    if items.is_empty() {
        return Err(ApiError::bad_request("ERR empty command"));
    }
    items.into_iter().map(argument).collect()
}

/// A string argument is its text; a number is passed on exactly as written, so Redis (not a
/// float conversion here) decides what it means. Anything else is refused: `true` is not a
/// Redis argument, and guessing a spelling for it would store data the client did not send.
fn argument(raw: &RawValue) -> Result<Vec<u8>, ApiError> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(text)
            .map(String::into_bytes)
            .map_err(|e| ApiError::bad_request(format!("ERR {e}"))),
        Some(b'-' | b'0'..=b'9') => Ok(text.as_bytes().to_vec()),
        _ => Err(ApiError::bad_request(format!(
            "ERR command arguments must be strings or numbers, got {text}"
        ))),
    }
}

/// Reads a batch's commands one by one, stopping at the first refused one.
struct BatchSeed<'f> {
    max_commands: usize,
    /// Why reading stopped, when it was our refusal rather than serde's.
    failure: &'f mut Option<ApiError>,
}

impl<'de> DeserializeSeed<'de> for BatchSeed<'_> {
    type Value = Vec<Command>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Vec<Command>, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for BatchSeed<'_> {
    type Value = Vec<Command>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of commands")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Command>, A::Error> {
        let mut cmds = Vec::new();
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            if cmds.len() == self.max_commands {
                *self.failure = Some(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "ERR too many commands in one request: at most {}",
                        self.max_commands
                    ),
                ));
                return Err(A::Error::custom("too many commands"));
            }
            match command(item) {
                Ok(cmd) => cmds.push(cmd),
                Err(e) => {
                    *self.failure = Some(ApiError::bad_request(format!(
                        "{} (command {})",
                        e.message(),
                        cmds.len() + 1
                    )));
                    return Err(A::Error::custom("bad command"));
                }
            }
        }
        Ok(cmds)
    }
}
