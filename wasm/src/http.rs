//! The HTTP meaning of a rate-limit decision for the edge glue (`js/http.js`): the core's
//! rule (see `redkit::ratelimit::http`), so the edge answers as Express, Flask and
//! Starlette do.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::errors::to_js;

/// `{ status, headers: [[name, value], ...], body }` for a decision given by its fields (a
/// result of `limit`), with the limiter's `policy` as `RateLimit-Policy`; `body` is `null`
/// when the request goes on.
#[wasm_bindgen]
pub fn rate_limit_http(
    allowed: bool,
    limit: f64,
    remaining: f64,
    reset_after_ms: f64,
    retry_after_ms: f64,
    reason: &str,
    policy: Option<String>,
) -> Result<JsValue, JsValue> {
    let reason = redkit::Reason::parse(reason).map_err(to_js)?;
    // Whole non-negative numbers, as every result carries; `as` saturates anything else.
    let decision = redkit::RateLimitResult {
        allowed,
        limit: limit as u64,
        remaining: remaining as u64,
        reset_after_ms: reset_after_ms as u64,
        retry_after_ms: retry_after_ms as u64,
        reason,
        error: None,
    };
    let answer = decision.http_with_policy(policy.as_deref().unwrap_or(""));
    let headers = Array::new();
    for (name, value) in answer.headers {
        headers.push(&Array::of2(&name.into(), &value.into()));
    }
    let out = Object::new();
    Reflect::set(&out, &"status".into(), &answer.status.into())?;
    Reflect::set(&out, &"headers".into(), &headers)?;
    let body = answer.body.map_or(JsValue::NULL, JsValue::from);
    Reflect::set(&out, &"body".into(), &body)?;
    Ok(out.into())
}
