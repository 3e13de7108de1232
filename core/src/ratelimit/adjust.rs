//! `penalty` and `reward`: take capacity from an identifier or give it back, outside of a
//! request (a failed login costs 5, a cache hit gives its unit back). One script call each,
//! atomic over every rule of the limiter.
//!
//! A penalty is written as a counted request of cost `n` (see `count_denied`): whether or
//! not it fits, never below empty. A reward is a negative cost: it never fills a rule above
//! its full capacity (`limit + burst`), whatever `n` says. Neither touches a `block_for`
//! block (`reset` lifts one), the in-process `local_block` list (a rewarded identifier
//! blocked there is asked about again at its retry time), or the allow and deny lists.

use super::{check_caller_clock, scripts, RateLimitResult, RateLimiter};
use crate::error::{Error, Result};
use crate::rt;

impl RateLimiter {
    /// Take `n` units from `identifier` now (1 ≤ `n` ≤ the largest `limit + burst` of the
    /// limiter's rules), whether or not they fit; answers what a [`RateLimiter::peek`] sees
    /// afterwards.
    pub async fn penalty(&self, identifier: &str, n: i64) -> Result<RateLimitResult> {
        self.adjust("penalty", identifier, n, 1, self.clock()).await
    }

    /// [`RateLimiter::penalty`] at the caller-supplied time `now_ms` (bounded as for
    /// [`RateLimiter::limit_at`]).
    pub async fn penalty_at(
        &self,
        identifier: &str,
        n: i64,
        now_ms: u64,
    ) -> Result<RateLimitResult> {
        check_caller_clock(now_ms)?;
        self.adjust("penalty", identifier, n, 1, Some(now_ms)).await
    }

    /// Give `n` units back to `identifier` (bounds as for [`RateLimiter::penalty`]), never
    /// above its full capacity; answers what a [`RateLimiter::peek`] sees afterwards.
    pub async fn reward(&self, identifier: &str, n: i64) -> Result<RateLimitResult> {
        self.adjust("reward", identifier, n, -1, self.clock()).await
    }

    /// [`RateLimiter::reward`] at the caller-supplied time `now_ms` (bounded as for
    /// [`RateLimiter::limit_at`]).
    pub async fn reward_at(
        &self,
        identifier: &str,
        n: i64,
        now_ms: u64,
    ) -> Result<RateLimitResult> {
        check_caller_clock(now_ms)?;
        self.adjust("reward", identifier, n, -1, Some(now_ms)).await
    }

    /// One adjust script call: `n` units, taken (`sign` 1) or given back (-1).
    async fn adjust(
        &self,
        what: &str,
        identifier: &str,
        n: i64,
        sign: i64,
        now_ms: Option<u64>,
    ) -> Result<RateLimitResult> {
        let max = self.inner.max_adjust;
        if !(1..=max).contains(&n) {
            return Err(Error::invalid(format!(
                "{what} n must be a whole number from 1 to {max} (the largest limit + burst), \
                 got {n}"
            )));
        }
        let mut keys = self.keys_for(identifier)?;
        // The block key, if any, is not the adjust script's.
        keys.truncate(self.inner.rule_count);
        let opts = &self.inner.opts;
        let call = scripts::adjust(opts.algorithm).run_with(self.inner.client.transport(), |cmd| {
            let cmd = cmd
                .arg(keys.len())
                .args(keys.iter())
                .arg(n * sign)
                .args(self.inner.rule_args.iter());
            match now_ms {
                Some(t) => cmd.arg(t),
                None => cmd,
            }
        });
        let reply = rt::timeout(opts.timeout, what, call).await?;
        super::parse_reply(reply, self.inner.capacity)
    }
}
