//! The rate limiter as the facade drives it: options in (read by the core, see
//! `options.rs`), `{allowed, limit, remaining, resetAfterMs, retryAfterMs, reason}` out.
//! Every decision is the core's.

use redkit::{Error, RateLimitResult, RateLimiter, RateLimiterOptions};
use wasm_bindgen::prelude::*;

use crate::api::WasmClient;
use crate::errors::to_js;
use crate::host::spawn;
use crate::options::{duration, read, text};

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
    /// `client.rateLimiter(name, opts)`, the options read by the core.
    pub fn rate_limiter(&self, name: JsValue, opts: JsValue) -> Result<WasmRateLimiter, JsValue> {
        let name = text(&name, "name")?;
        let opts: RateLimiterOptions = read("rate limiter options", &opts)?;
        let inner = self
            .inner
            .rate_limiter(&name)
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
        identifier: JsValue,
        cost: Option<f64>,
        now: Option<f64>,
    ) -> Result<u32, JsValue> {
        let identifier = text(&identifier, "identifier")?;
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
    pub fn peek(&self, identifier: JsValue, now: Option<f64>) -> Result<u32, JsValue> {
        let identifier = text(&identifier, "identifier")?;
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

    /// Decisions `onError` or `insurance` made because Redis failed.
    pub fn errors(&self) -> f64 {
        self.inner.errors() as f64
    }

    /// Take `n` units from `identifier` (`reward`: give them back), at `now_ms` when given.
    pub fn adjust(
        &self,
        identifier: JsValue,
        n: f64,
        reward: bool,
        now: Option<f64>,
    ) -> Result<u32, JsValue> {
        let identifier = text(&identifier, "identifier")?;
        let n = whole(n, "n").map_err(to_js)?;
        let now = now_ms(now).map_err(to_js)?;
        let l = self.inner.clone();
        Ok(spawn(async move {
            let id = &identifier;
            let r = match (reward, now) {
                (false, Some(t)) => l.penalty_at(id, n, t).await,
                (false, None) => l.penalty(id, n).await,
                (true, Some(t)) => l.reward_at(id, n, t).await,
                (true, None) => l.reward(id, n).await,
            };
            result_to_js(r.map_err(to_js)?)
        }))
    }

    /// Decide for `cost` (default 1) until allowed, or until `timeout` (ms or a string).
    pub fn wait(
        &self,
        identifier: JsValue,
        cost: Option<f64>,
        timeout: JsValue,
    ) -> Result<u32, JsValue> {
        let identifier = text(&identifier, "identifier")?;
        let cost = whole(cost.unwrap_or(1.0), "cost").map_err(to_js)?;
        let timeout = match timeout.is_null() || timeout.is_undefined() {
            true => None,
            false => Some(duration("timeout", &timeout)?),
        };
        let l = self.inner.clone();
        Ok(spawn(async move {
            result_to_js(l.wait(&identifier, cost, timeout).await.map_err(to_js)?)
        }))
    }

    /// The RateLimit-Policy header of the limiter's rules (`100;w=60`).
    pub fn policy(&self) -> String {
        self.inner.policy().to_string()
    }

    /// Forget `identifier`.
    pub fn reset(&self, identifier: JsValue) -> Result<u32, JsValue> {
        let identifier = text(&identifier, "identifier")?;
        let l = self.inner.clone();
        Ok(spawn(async move {
            l.reset(&identifier)
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(to_js)
        }))
    }
}
