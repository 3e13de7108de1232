//! The Upstash REST protocol over `fetch`: `POST /` with a JSON array for one command,
//! `POST /pipeline` with an array of arrays, a bearer token, and
//! `Upstash-Encoding: base64` so bulk strings come back base64 and binary values survive.
//! Retries with the native client's backoff, under one deadline per request.

use std::time::Duration;

use futures_util::future::{select, Either};
use redkit::{BoxFuture, Cmd, ConnectOptions, Error, Result, Transport, Value};
use serde_json::Value as Json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{message_of, name_of};
use crate::host::{sleep, HostPromise};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(url: &str, init: &JsValue) -> std::result::Result<JsValue, JsValue>;

    type FetchResponse;
    #[wasm_bindgen(method, getter)]
    fn status(this: &FetchResponse) -> u16;
    #[wasm_bindgen(method)]
    fn text(this: &FetchResponse) -> JsValue;

    #[wasm_bindgen(js_name = AbortSignal)]
    type AbortSignalClass;
    #[wasm_bindgen(static_method_of = AbortSignalClass, js_name = timeout, catch)]
    fn abort_after(ms: f64) -> std::result::Result<JsValue, JsValue>;
}

/// A [`Transport`] speaking the Upstash REST protocol.
pub struct RestTransport {
    url: String,
    token: Option<String>,
    opts: ConnectOptions,
    closed: std::cell::Cell<bool>,
}

impl RestTransport {
    /// A transport for the REST endpoint at `url` (`https://…`, no trailing path).
    pub fn new(url: &str, token: Option<String>, opts: ConnectOptions) -> Result<Self> {
        opts.validate()?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::invalid(format!(
                "url must start with https:// or http://, got {url:?}"
            )));
        }
        Ok(RestTransport {
            url: url.trim_end_matches('/').to_string(),
            token,
            opts,
            closed: std::cell::Cell::new(false),
        })
    }

    /// POST `body` to `path`, retrying connection trouble, all within `opts.timeout`.
    async fn post(&self, path: &str, body: String) -> Result<Json> {
        if self.closed.get() {
            return Err(Error::Closed);
        }
        let deadline = redkit::rt::now_ms() + self.opts.timeout.as_millis() as u64;
        let mut tries = 0u32;
        loop {
            let left = deadline.saturating_sub(redkit::rt::now_ms());
            if left == 0 {
                return Err(Error::Timeout(format!(
                    "REST request took longer than {}",
                    redkit::duration::show(self.opts.timeout)
                )));
            }
            let attempt = std::pin::pin!(self.attempt(path, &body, left));
            let timer = std::pin::pin!(sleep(Duration::from_millis(left)));
            // The abort signal cancels the request itself; this bound also holds where a
            // runtime lacks AbortSignal.timeout, and for a body that never finishes.
            let outcome = match select(attempt, timer).await {
                Either::Left((r, _)) => r,
                Either::Right(_) => Err(Failure::last(Error::Timeout(format!(
                    "REST request took longer than {}",
                    redkit::duration::show(self.opts.timeout)
                )))),
            };
            match outcome {
                Err(f) if f.retry && tries < self.opts.retries => {
                    let pause = self.opts.backoff(tries).min(Duration::from_millis(left));
                    sleep(pause).await;
                    tries += 1;
                }
                Err(f) => return Err(f.error),
                Ok(json) => return Ok(json),
            }
        }
    }

    async fn attempt(&self, path: &str, body: &str, left_ms: u64) -> Result<Json, Failure> {
        let init = request_init(self.token.as_deref(), body, left_ms)
            .map_err(|e| Failure::last(Error::invalid(message_of(&e))))?;
        let url = format!("{}{path}", self.url);
        let request =
            global_fetch(&url, &init).map_err(|e| fetch_error(&e, &self.url, self.opts.timeout))?;
        let response = HostPromise::new(request)
            .await
            .map_err(|e| fetch_error(&e, &self.url, self.opts.timeout))?;
        let response: FetchResponse = response.unchecked_into();
        let status = response.status();
        let text = HostPromise::new(response.text())
            .await
            .map_err(|e| fetch_error(&e, &self.url, self.opts.timeout))?;
        let text = text.as_string().unwrap_or_default();
        let parsed: Option<Json> = serde_json::from_str(&text).ok();
        let why = || error_text(&parsed, &text);
        Err(match status {
            200..=299 => {
                return parsed.ok_or_else(|| {
                    Failure::last(Error::Decode(format!(
                        "REST reply is not JSON: {}",
                        clip(&text)
                    )))
                })
            }
            401 => Failure::last(Error::Connection(format!(
                "REST endpoint refused the token (401): {}",
                why()
            ))),
            // An error reply to the command itself (WRONGTYPE, NOSCRIPT, ...), or a command
            // the endpoint does not allow (403).
            400 | 403 => Failure::last(redkit::server_error(why())),
            413 => Failure::last(Error::invalid(format!("REST request too large: {}", why()))),
            // The endpoint or what is behind it is overloaded or restarting: worth another try.
            408 | 429 | 500..=599 => Failure::retry(Error::Connection(format!(
                "REST endpoint answered {status}: {}",
                why()
            ))),
            _ => Failure::last(Error::Connection(format!(
                "REST endpoint answered {status}: {}",
                why()
            ))),
        })
    }
}

/// A failed attempt, and whether trying again may help (network trouble and 5xx may; the
/// caller's mistakes and error replies never do).
struct Failure {
    error: Error,
    retry: bool,
}

impl Failure {
    fn retry(error: Error) -> Self {
        Failure { error, retry: true }
    }
    fn last(error: Error) -> Self {
        Failure {
            error,
            retry: false,
        }
    }
}

fn request_init(
    token: Option<&str>,
    body: &str,
    left_ms: u64,
) -> std::result::Result<JsValue, JsValue> {
    let headers = js_sys::Object::new();
    js_sys::Reflect::set(&headers, &"Content-Type".into(), &"application/json".into())?;
    js_sys::Reflect::set(&headers, &"Upstash-Encoding".into(), &"base64".into())?;
    if let Some(t) = token {
        js_sys::Reflect::set(
            &headers,
            &"Authorization".into(),
            &format!("Bearer {t}").into(),
        )?;
    }
    let init = js_sys::Object::new();
    js_sys::Reflect::set(&init, &"method".into(), &"POST".into())?;
    js_sys::Reflect::set(&init, &"headers".into(), &headers)?;
    js_sys::Reflect::set(&init, &"body".into(), &body.into())?;
    if let Ok(signal) = AbortSignalClass::abort_after(left_ms as f64) {
        js_sys::Reflect::set(&init, &"signal".into(), &signal)?;
    }
    Ok(init.into())
}

/// What a failed fetch means. An abort is the request's deadline passing: named by the
/// whole `timeout`, not by what was left of it for the last attempt. A network failure
/// names the endpoint and, where the runtime gives one, the cause (fetch's own message is
/// only "fetch failed"; its `cause` says "connect ECONNREFUSED 127.0.0.1:8080").
fn fetch_error(e: &JsValue, url: &str, timeout: Duration) -> Failure {
    match name_of(e).as_str() {
        "TimeoutError" | "AbortError" => Failure::last(Error::Timeout(format!(
            "REST request took longer than {}",
            redkit::duration::show(timeout)
        ))),
        // fetch rejects with a TypeError when the network fails.
        _ => {
            let cause = js_sys::Reflect::get(e, &"cause".into())
                .ok()
                .filter(|c| !c.is_undefined() && !c.is_null())
                .map(|c| format!(" ({})", message_of(&c)))
                .unwrap_or_default();
            Failure::retry(Error::Connection(format!(
                "REST request to {} failed: {}{cause}",
                redkit::transport::url::masked(url),
                message_of(e)
            )))
        }
    }
}

fn error_text(parsed: &Option<Json>, raw: &str) -> String {
    parsed
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(|e| e.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| clip(raw))
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

/// The JSON array the protocol sends for one command. Arguments travel as JSON strings,
/// so they must be UTF-8.
fn cmd_json(cmd: &Cmd) -> Result<Json> {
    cmd.parts()
        .map(|p| {
            std::str::from_utf8(p).map(|s| Json::String(s.to_string())).map_err(|_| {
                Error::invalid(format!(
                    "the REST transport sends arguments as JSON strings; an argument of {} is not UTF-8",
                    cmd.name()
                ))
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Json::Array)
}

/// `{"result": …}` or `{"error": "…"}` as a core value.
fn slot(entry: &Json) -> Result<Value> {
    if let Some(err) = entry.get("error") {
        return Ok(Value::Error(
            err.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| err.to_string()),
        ));
    }
    match entry.get("result") {
        Some(r) => decode(r),
        None => Err(Error::Decode(format!(
            "REST reply has neither result nor error: {}",
            clip(&entry.to_string())
        ))),
    }
}

/// A base64-encoded result as a core value. Upstash leaves `OK` as it is.
fn decode(v: &Json) -> Result<Value> {
    Ok(match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) if s == "OK" => Value::Status(s.clone()),
        Json::String(s) => Value::Bulk(
            crate::base64::decode(s)
                .ok_or_else(|| Error::Decode(format!("REST result is not base64: {}", clip(s))))?,
        ),
        Json::Array(items) => Value::Array(items.iter().map(decode).collect::<Result<_>>()?),
        Json::Object(_) => return slot(v),
    })
}

impl RestTransport {
    async fn one_by_one(&self, cmds: Vec<Cmd>) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(cmds.len());
        for cmd in cmds {
            out.push(match self.send(cmd).await {
                Ok(v) => v,
                Err(Error::Server(m)) | Err(Error::Script(m)) => Value::Error(m),
                Err(e) => return Err(e),
            });
        }
        Ok(out)
    }
}

impl Transport for RestTransport {
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        Box::pin(async move {
            let body = cmd_json(&cmd)?.to_string();
            let reply = self.post("/", body).await?;
            slot(&reply)?.into_result()
        })
    }

    fn pipeline(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, Result<Vec<Value>>> {
        Box::pin(async move {
            if cmds.is_empty() {
                return Ok(Vec::new());
            }
            let body = Json::Array(cmds.iter().map(cmd_json).collect::<Result<_>>()?).to_string();
            let reply = match self.post("/pipeline", body).await {
                // The endpoint refused the whole pipeline for one command (a denied
                // command, say): send them one by one so each gets its own reply or error
                // in its slot, as the Transport contract says.
                Err(Error::Server(_)) | Err(Error::Script(_)) => {
                    return self.one_by_one(cmds).await
                }
                other => other?,
            };
            let entries = reply.as_array().ok_or_else(|| {
                Error::Decode(format!(
                    "pipeline reply is not an array: {}",
                    clip(&reply.to_string())
                ))
            })?;
            if entries.len() != cmds.len() {
                return Err(Error::Decode(format!(
                    "pipeline sent {} commands and got {} replies",
                    cmds.len(),
                    entries.len()
                )));
            }
            entries.iter().map(slot).collect()
        })
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        self.closed.set(true);
        Box::pin(async { Ok(()) })
    }

    fn name(&self) -> &'static str {
        "rest"
    }
}
