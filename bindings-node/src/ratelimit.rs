//! `NativeRateLimiter`: the rate limiter, converted. Options are read by the core (see
//! `options.rs`), results leave as one compact
//! string (see `encode`) that `ratelimit.js` reads into `{allowed, limit, remaining,
//! resetAfterMs, retryAfterMs, reason, error?}`. Every decision is the core's.
//!
//! Decisions travel the client's completion queue (see `completion.rs`), like cache
//! operations: no threadsafe function per call.

use std::sync::Arc;

use napi::bindgen_prelude::Object;
use napi::Env;
use napi_derive::napi;
use redkit::ratelimit::whole_number;
use redkit::{RateLimitResult, RateLimiter, Result};

use crate::completion::{Completions, Outcome, Start};
use crate::errors::marked_message;
use crate::functions::{arg, opt_arg, string_arg, Functions, Made};
use crate::options::{duration, Js};

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

    /// Take `n` units from `identifier` (`reward`: give them back), at `nowMs` when given.
    fn adjust(
        &self,
        env: &Env,
        op: Start,
        identifier: String,
        n: f64,
        reward: bool,
        now: Option<f64>,
    ) -> napi::Result<Made> {
        let l = self.inner.clone();
        self.completions.start(env, op, async move {
            let n = whole_number("n", n)?;
            let id = &identifier;
            let r = match (reward, now_ms(now)?) {
                (false, Some(t)) => l.penalty_at(id, n, t).await?,
                (false, None) => l.penalty(id, n).await?,
                (true, Some(t)) => l.reward_at(id, n, t).await?,
                (true, None) => l.reward(id, n).await?,
            };
            Ok(encode(r))
        })
    }

    /// Decide for `cost` (default 1) until allowed, or until `timeout` (ms or a string).
    fn wait(
        &self,
        env: &Env,
        op: Start,
        identifier: String,
        cost: Option<f64>,
        timeout: Option<Js>,
    ) -> napi::Result<Made> {
        let l = self.inner.clone();
        self.completions.start(env, op, async move {
            let cost = whole_number("cost", cost.unwrap_or(1.0))?;
            let timeout = timeout.map(|t| duration("timeout", t)).transpose()?;
            Ok(encode(l.wait(&identifier, cost, timeout).await?))
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
    /// Decisions `onError` or `insurance` made because Redis failed.
    #[napi(catch_unwind)]
    pub fn errors(&self) -> f64 {
        self.inner.errors() as f64
    }

    /// The RateLimit-Policy header of the limiter's rules (`100;w=60`).
    #[napi]
    pub fn policy(&self) -> String {
        self.inner.policy().to_string()
    }

    /// The operations as plain functions (see `functions.rs`), each taking its [`Start`]
    /// first and returning what it asks for (see `Completions::start`).
    #[napi(
        catch_unwind,
        ts_return_type = "{ limit(op: number, identifier: string, cost?: number | null, nowMs?: number | null): unknown; peek(op: number, identifier: string, nowMs?: number | null): unknown; reset(op: number, identifier: string): unknown; penalty(op: number, identifier: string, n: number, nowMs?: number | null): unknown; reward(op: number, identifier: string, n: number, nowMs?: number | null): unknown; wait(op: number, identifier: string, cost?: number | null, timeout?: number | string | null): unknown }"
    )]
    pub fn functions<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (l1, l2, l3) = (self.clone(), self.clone(), self.clone());
        let (l4, l5, l6) = (self.clone(), self.clone(), self.clone());
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
            .add("penalty", move |x| {
                let (n, now) = (arg(x, 2)?, opt_arg(x, 3)?);
                l4.adjust(x.env, arg(x, 0)?, string_arg(x, 1)?, n, false, now)
            })?
            .add("reward", move |x| {
                let (n, now) = (arg(x, 2)?, opt_arg(x, 3)?);
                l5.adjust(x.env, arg(x, 0)?, string_arg(x, 1)?, n, true, now)
            })?
            .add("wait", move |x| {
                let (cost, timeout) = (opt_arg(x, 2)?, opt_arg(x, 3)?);
                l6.wait(x.env, arg(x, 0)?, string_arg(x, 1)?, cost, timeout)
            })?
            .finish())
    }
}
