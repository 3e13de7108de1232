//! What a rate limiter answers when Redis cannot: the `insurance` limit if it has one,
//! else `on_error` (`allow` or `deny`). A circuit breaker (`circuit_breaker`, see
//! `crate::breaker`) skips Redis for a while after a failure, so a dead Redis costs one
//! `timeout` per interval instead of one per request. Every such decision is counted
//! ([`crate::RateLimiter::errors`]) and reported (see [`crate::incidents`]).
//!
//! A limiter with `on_error="raise"` and no insurance has no failover: every failure is
//! the caller's to handle, and every call asks Redis.

use super::insurance::Insurance;
use super::options::{OnError, RateLimiterOptions};
use super::result::RateLimitResult;
use crate::breaker::Breaker;
use crate::client::Client;
use crate::error::Error;
use crate::incidents::{Fallback, Incidents};
use crate::rt;

/// The failover of one limiter.
#[derive(Debug)]
pub(crate) struct Failover {
    name: String,
    on_error: OnError,
    /// The first rule's capacity: the limit of a result `on_error` makes.
    capacity: u64,
    breaker: Breaker,
    insurance: Option<Insurance>,
    incidents: Incidents,
}

impl Failover {
    /// The failover `opts` ask for, if any.
    pub fn new(name: &str, opts: &RateLimiterOptions, capacity: u64) -> Option<Failover> {
        if opts.on_error == OnError::Raise && !opts.insurance {
            return None;
        }
        Some(Failover {
            name: name.to_string(),
            on_error: opts.on_error,
            capacity,
            breaker: Breaker::new(opts.circuit_breaker),
            insurance: opts.insurance.then(|| Insurance::new(opts)),
            incidents: Incidents::default(),
        })
    }

    /// Why this call must not ask Redis, if the breaker is open.
    #[inline]
    pub fn skip(&self) -> Option<Error> {
        self.breaker.skips().then(|| self.breaker.skipped())
    }

    /// Redis decided.
    #[inline]
    pub fn succeeded(&self) {
        self.breaker.succeeded();
    }

    /// Decide without Redis, which failed with `error` (and open the breaker, unless
    /// the call was skipped by it). `now_ms` is the caller's clock when it decides (else
    /// this process's).
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        &self,
        client: &Client,
        identifier: &str,
        cost: i64,
        consume: bool,
        now_ms: Option<u64>,
        error: Error,
        skipped: bool,
    ) -> RateLimitResult {
        if !skipped {
            self.breaker.failed();
        }
        let (result, fallback) = match &self.insurance {
            Some(insurance) => {
                let now = now_ms.unwrap_or_else(rt::now_ms);
                let mut r = insurance.decide(identifier, cost, consume, now);
                r.error = Some(error.clone());
                (r, Fallback::Insurance)
            }
            None => {
                let allowed = self.on_error == OnError::Allow;
                let r = RateLimitResult::from_error(allowed, self.capacity, error.clone());
                (
                    r,
                    if allowed {
                        Fallback::Allow
                    } else {
                        Fallback::Deny
                    },
                )
            }
        };
        self.incidents.record(
            client.reporter(),
            "rate_limiter",
            &self.name,
            fallback,
            &error,
        );
        result
    }

    /// Decisions made without Redis so far.
    pub fn errors(&self) -> u64 {
        self.incidents.errors()
    }
}
