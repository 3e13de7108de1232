//! The HTTP meaning of a rate-limit decision for `express.js`: the core's rule (see
//! `redkit::ratelimit::http`), so the Express glue answers as Flask, Starlette and the
//! edge do.

use napi_derive::napi;

use crate::errors::marked_message;

/// What the middleware answers for one decision.
#[napi(object)]
pub struct HttpAnswer {
    /// 200 when the request goes on; 429 (denied) or 503 (Redis failed, `onError` denied).
    pub status: u32,
    /// `[name, value]` pairs: for the handler's response when the request goes on, for
    /// the refusal otherwise.
    pub headers: Vec<Vec<String>>,
    /// The JSON body of a refusal; absent when the request goes on.
    pub body: Option<String>,
}

/// The answer for a decision, from its fields (a result of `limit`, as `redkit.js`
/// gives it), with the limiter's `policy` as `RateLimit-Policy`.
#[napi(catch_unwind, js_name = "rateLimitHttp")]
pub fn rate_limit_http(
    allowed: bool,
    limit: f64,
    remaining: f64,
    reset_after_ms: f64,
    retry_after_ms: f64,
    reason: String,
    policy: Option<String>,
) -> napi::Result<HttpAnswer> {
    let reason =
        redkit::Reason::parse(&reason).map_err(|e| napi::Error::from_reason(marked_message(&e)))?;
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
    Ok(HttpAnswer {
        status: u32::from(answer.status),
        headers: answer
            .headers
            .into_iter()
            .map(|(name, value)| vec![name.to_string(), value])
            .collect(),
        body: answer.body,
    })
}
