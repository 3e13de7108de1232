//! The rate limiter as the facade drives it: options in, `{allowed, limit, remaining,
//! resetAfterMs, retryAfterMs, reason}` out. Every decision is the core's; this module only
//! converts numbers and names.

use redkit::ratelimit::duration_from_ms;
use redkit::{
    Algorithm, ClockMode, Error, OnError, RateLimitResult, RateLimiter, RateLimiterOptions, Rule,
};
use wasm_bindgen::prelude::*;

use crate::api::WasmClient;
use crate::errors::to_js;
use crate::host::spawn;

/// A JS number that must be a whole number (a limit, a cost, a time in ms): the core's
/// check, argument order as the call sites read best.
fn whole(n: f64, what: &str) -> Result<i64, Error> {
    redkit::ratelimit::whole_number(what, n)
}

/// A caller-supplied clock (`nowMs`): a whole, non-negative number of ms since the epoch.
fn now_ms(v: Option<f64>) -> Result<Option<u64>, Error> {
    v.map(|n| {
        let ms = whole(n, "nowMs")?;
        u64::try_from(ms)
            .map_err(|_| Error::invalid(format!("nowMs must not be negative, got {n}")))
    })
    .transpose()
}

#[wasm_bindgen]
impl WasmClient {
    /// `client.rateLimiter(name, {limit, window, algorithm, burst, limits, countDenied,
    /// onError, timeout, localBlock, clock})` as the facade passes them (absent ones
    /// `None`); `limits` as flattened `[limit, windowMs, burst]` triples.
    #[allow(clippy::too_many_arguments)]
    pub fn rate_limiter(
        &self,
        name: &str,
        limit: Option<f64>,
        window_ms: Option<f64>,
        algorithm: Option<String>,
        burst: Option<f64>,
        limits: Vec<f64>,
        count_denied: Option<bool>,
        on_error: Option<String>,
        timeout_ms: Option<f64>,
        local_block: Option<bool>,
        clock: Option<String>,
    ) -> Result<WasmRateLimiter, JsValue> {
        // Types were checked by the facade; names, numbers and ranges are checked here
        // and by the core (RateLimiterOptions::validate, at build).
        let opts = (|| -> Result<RateLimiterOptions, Error> {
            let mut o = RateLimiterOptions::default();
            if let Some(n) = limit {
                o.limit = whole(n, "limit")?;
            }
            if let Some(ms) = window_ms {
                o.window = duration_from_ms("window", ms)?;
            }
            if let Some(a) = algorithm {
                o.algorithm = Algorithm::parse(&a)?;
            }
            if let Some(n) = burst {
                o.burst = whole(n, "burst")?;
            }
            for (i, rule) in limits.chunks(3).enumerate() {
                let &[limit, window_ms, burst] = rule else {
                    return Err(Error::invalid(
                        "limits must be {limit, window, burst} triples",
                    ));
                };
                o.extra_limits.push(Rule {
                    limit: whole(limit, &format!("limits[{i}].limit"))?,
                    window: duration_from_ms(&format!("limits[{i}].window"), window_ms)?,
                    burst: whole(burst, &format!("limits[{i}].burst"))?,
                });
            }
            if let Some(b) = count_denied {
                o.count_denied = b;
            }
            if let Some(e) = on_error {
                o.on_error = OnError::parse(&e)?;
            }
            if let Some(ms) = timeout_ms {
                o.timeout = duration_from_ms("timeout", ms)?;
            }
            if let Some(b) = local_block {
                o.local_block = b;
            }
            if let Some(c) = clock {
                o.clock = ClockMode::parse(&c)?;
            }
            Ok(o)
        })()
        .map_err(to_js)?;
        let inner = self
            .inner
            .rate_limiter(name)
            .options(opts)
            .build()
            .map_err(to_js)?;
        Ok(WasmRateLimiter { inner })
    }
}

/// One named limiter (from `client.rateLimiter`).
#[wasm_bindgen]
pub struct WasmRateLimiter {
    inner: RateLimiter,
}

/// The result object, camelCase; `error` (the failure `onError` covered) only when
/// `reason` is `error`.
fn result_to_js(r: RateLimitResult) -> Result<JsValue, JsValue> {
    let o = js_sys::Object::new();
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(&o, &k.into(), &v).map(|_| ());
    set("allowed", r.allowed.into())?;
    set("limit", (r.limit as f64).into())?;
    set("remaining", (r.remaining as f64).into())?;
    set("resetAfterMs", (r.reset_after_ms as f64).into())?;
    set("retryAfterMs", (r.retry_after_ms as f64).into())?;
    set("reason", r.reason.as_str().into())?;
    if let Some(e) = r.error {
        set("error", to_js(e))?;
    }
    Ok(o.into())
}

#[wasm_bindgen]
impl WasmRateLimiter {
    /// One atomic decision for a request of `cost` (default 1), at `now_ms` when given.
    pub fn limit(
        &self,
        identifier: String,
        cost: Option<f64>,
        now: Option<f64>,
    ) -> Result<u32, JsValue> {
        let cost = whole(cost.unwrap_or(1.0), "cost").map_err(to_js)?;
        let now = now_ms(now).map_err(to_js)?;
        let l = self.inner.clone();
        Ok(spawn(async move {
            let r = match now {
                Some(t) => l.limit_at(&identifier, cost, t).await,
                None => l.limit(&identifier, cost).await,
            };
            result_to_js(r.map_err(to_js)?)
        }))
    }

    /// What a request of cost 1 would get now (or at `now_ms`), consuming nothing.
    pub fn peek(&self, identifier: String, now: Option<f64>) -> Result<u32, JsValue> {
        let now = now_ms(now).map_err(to_js)?;
        let l = self.inner.clone();
        Ok(spawn(async move {
            let r = match now {
                Some(t) => l.peek_at(&identifier, t).await,
                None => l.peek(&identifier).await,
            };
            result_to_js(r.map_err(to_js)?)
        }))
    }

    /// Forget `identifier`.
    pub fn reset(&self, identifier: String) -> u32 {
        let l = self.inner.clone();
        spawn(async move {
            l.reset(&identifier)
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(to_js)
        })
    }
}
