//! `NativeRateLimiter`: the rate limiter, converted. Options arrive as the object
//! `client.rateLimiter(name, opts)` got (camelCase, ms), results leave as one compact
//! string (see `encode`) that `ratelimit.js` reads into `{allowed, limit, remaining,
//! resetAfterMs, retryAfterMs, reason, error?}`. Every decision is the core's.
//!
//! Decisions travel the client's completion queue (see `completion.rs`), like cache
//! operations: no threadsafe function per call.

use std::sync::Arc;

use napi::bindgen_prelude::Object;
use napi::Env;
use napi_derive::napi;
use redkit::ratelimit::{duration_from_ms, whole_number};
use redkit::{
    Algorithm, ClockMode, OnError, RateLimitResult, RateLimiter, RateLimiterOptions, Result, Rule,
};

use crate::completion::{Completions, Outcome, Start};
use crate::errors::marked_message;
use crate::functions::{arg, opt_arg, string_arg, Functions, Made};

/// One more limit decided in the same atomic call.
#[napi(object)]
pub struct RateLimitRule {
    /// Requests (cost units) per window, at least 1.
    pub limit: f64,
    /// The window in ms, at least 1.
    pub window: f64,
    /// Extra capacity spent at once (gcra and token_bucket only; default 0).
    pub burst: Option<f64>,
}

/// Options of `client.rateLimiter(name, opts)`. Durations in milliseconds.
#[napi(object, js_name = "RateLimiterOptions")]
#[derive(Default)]
pub struct RateLimiterOpts {
    /// Requests (cost units) per window (default 10).
    pub limit: Option<f64>,
    /// The window in ms (default 1000).
    pub window: Option<f64>,
    /// `gcra` (default), `token_bucket`, `sliding_window`, `sliding_log`, `fixed_window`.
    pub algorithm: Option<String>,
    /// Extra capacity spent at once, gcra and token_bucket only (default 0).
    pub burst: Option<f64>,
    /// More limits decided atomically with the first: nothing is consumed unless all allow.
    pub limits: Option<Vec<RateLimitRule>>,
    /// Record denied requests too, so a client that keeps retrying stays blocked.
    pub count_denied: Option<bool>,
    /// `deny` (default), `allow` or `raise` when Redis fails or exceeds `timeout`.
    pub on_error: Option<String>,
    /// The longest one decision waits for Redis, ms (default 1000).
    pub timeout: Option<f64>,
    /// Remember denied identifiers in this process until their retry time.
    pub local_block: Option<bool>,
    /// `server` (default: the script reads TIME) or `client` (this process's clock).
    pub clock: Option<String>,
}

impl RateLimiterOpts {
    /// The core's options, defaults filled in; ranges are checked by the core at build.
    pub fn into_core(self) -> Result<RateLimiterOptions> {
        let mut o = RateLimiterOptions::default();
        if let Some(n) = self.limit {
            o.limit = whole_number("limit", n)?;
        }
        if let Some(ms) = self.window {
            o.window = duration_from_ms("window", ms)?;
        }
        if let Some(a) = self.algorithm {
            o.algorithm = Algorithm::parse(&a)?;
        }
        if let Some(n) = self.burst {
            o.burst = whole_number("burst", n)?;
        }
        for (i, r) in self.limits.unwrap_or_default().into_iter().enumerate() {
            o.extra_limits.push(Rule {
                limit: whole_number(&format!("limits[{i}].limit"), r.limit)?,
                window: duration_from_ms(&format!("limits[{i}].window"), r.window)?,
                burst: whole_number(&format!("limits[{i}].burst"), r.burst.unwrap_or(0.0))?,
            });
        }
        if let Some(b) = self.count_denied {
            o.count_denied = b;
        }
        if let Some(e) = self.on_error {
            o.on_error = OnError::parse(&e)?;
        }
        if let Some(ms) = self.timeout {
            o.timeout = duration_from_ms("timeout", ms)?;
        }
        if let Some(b) = self.local_block {
            o.local_block = b;
        }
        if let Some(c) = self.clock {
            o.clock = ClockMode::parse(&c)?;
        }
        Ok(o)
    }
}

/// A caller-supplied clock (`nowMs`): a whole, non-negative number of ms since the epoch.
fn now_ms(v: Option<f64>) -> Result<Option<u64>> {
    v.map(|n| {
        u64::try_from(whole_number("nowMs", n)?)
            .map_err(|_| redkit::Error::invalid(format!("nowMs must not be negative, got {n}")))
    })
    .transpose()
}

/// A result as one UTF-16 string: `allowed` (0 or 1) in the first code unit, then
/// `limit`, `remaining`, `reset_after_ms` and `retry_after_ms` in four code units each
/// (16 bits apiece, the lowest first), then the reason's name and, when an error was
/// covered, a comma and its marked message. JS reads numbers with `charCodeAt`, which
/// allocates nothing: one string crosses (cheaper than an object built from Rust), and
/// reading it costs less than splitting and parsing a decimal line.
fn encode(r: RateLimitResult) -> Outcome {
    let mut units = Vec::with_capacity(1 + 4 * 4 + 12);
    units.push(u16::from(r.allowed));
    for n in [r.limit, r.remaining, r.reset_after_ms, r.retry_after_ms] {
        units.extend((0..4).map(|i| (n >> (16 * i)) as u16));
    }
    units.extend(r.reason.as_str().encode_utf16());
    if let Some(e) = r.error {
        units.push(u16::from(b','));
        units.extend(marked_message(&e).encode_utf16());
    }
    Outcome::Utf16(units)
}

/// The native limiter behind `RateLimiter` in `ratelimit.js`.
#[napi]
#[derive(Clone)]
pub struct NativeRateLimiter {
    inner: RateLimiter,
    completions: Arc<Completions>,
}

impl NativeRateLimiter {
    pub(crate) fn new(inner: RateLimiter, completions: Arc<Completions>) -> Self {
        NativeRateLimiter { inner, completions }
    }
}

impl NativeRateLimiter {
    /// One atomic decision for `cost` (default 1), at `nowMs` when given.
    fn limit(
        &self,
        env: &Env,
        op: Start,
        identifier: String,
        cost: Option<f64>,
        now: Option<f64>,
    ) -> napi::Result<Made> {
        let l = self.inner.clone();
        self.completions.start(env, op, async move {
            let cost = whole_number("cost", cost.unwrap_or(1.0))?;
            let r = match now_ms(now)? {
                Some(t) => l.limit_at(&identifier, cost, t).await?,
                None => l.limit(&identifier, cost).await?,
            };
            Ok(encode(r))
        })
    }

    /// What a request of cost 1 would get now (or at `nowMs`).
    fn peek(
        &self,
        env: &Env,
        op: Start,
        identifier: String,
        now: Option<f64>,
    ) -> napi::Result<Made> {
        let l = self.inner.clone();
        self.completions.start(env, op, async move {
            let r = match now_ms(now)? {
                Some(t) => l.peek_at(&identifier, t).await?,
                None => l.peek(&identifier).await?,
            };
            Ok(encode(r))
        })
    }

    /// Forget `identifier`.
    fn reset(&self, env: &Env, op: Start, identifier: String) -> napi::Result<Made> {
        let l = self.inner.clone();
        self.completions.start(env, op, async move {
            l.reset(&identifier).await?;
            Ok(Outcome::Unit)
        })
    }
}

#[napi]
impl NativeRateLimiter {
    /// The operations as plain functions (see `functions.rs`), each taking its [`Start`]
    /// first and returning what it asks for (see `Completions::start`).
    #[napi(
        catch_unwind,
        ts_return_type = "{ limit(op: number, identifier: string, cost?: number | null, nowMs?: number | null): unknown; peek(op: number, identifier: string, nowMs?: number | null): unknown; reset(op: number, identifier: string): unknown }"
    )]
    pub fn functions<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (l1, l2, l3) = (self.clone(), self.clone(), self.clone());
        Ok(Functions::new(env)?
            .add("limit", move |x| {
                l1.limit(
                    x.env,
                    arg(x, 0)?,
                    string_arg(x, 1)?,
                    opt_arg(x, 2)?,
                    opt_arg(x, 3)?,
                )
            })?
            .add("peek", move |x| {
                l2.peek(x.env, arg(x, 0)?, string_arg(x, 1)?, opt_arg(x, 2)?)
            })?
            .add("reset", move |x| {
                l3.reset(x.env, arg(x, 0)?, string_arg(x, 1)?)
            })?
            .finish())
    }
}
