//! `wait`: block until a request is allowed, or a timeout passes (@upstash/ratelimit's
//! `blockUntilReady`, Guava's `tryAcquire(timeout)`).
//!
//! Each round is one decision (`limit`): when denied, sleep for its `retry_after_ms` (at
//! least 1 ms, never a busy loop) and decide again, since other processes may take the
//! capacity first. When the wait the decision asks for would end after the timeout, the
//! denied result is returned at once, without sleeping for nothing (as Guava does): the
//! caller sees `allowed: false` and the `retry_after_ms` it would have needed. A result
//! that waiting cannot change is returned at once too: a `deny_list` denial, or an
//! `on_error` decision (Redis failing).

use std::time::Duration;

use super::{RateLimitResult, RateLimiter, Reason};
use crate::error::Result;
use crate::rt;

impl RateLimiter {
    /// Decide for a request of `cost` until it is allowed, sleeping for each denial's
    /// `retry_after_ms`; with a `timeout`, return the denied result once the next try would
    /// come after it (`None`: wait as long as it takes).
    pub async fn wait(
        &self,
        identifier: &str,
        cost: i64,
        timeout: Option<Duration>,
    ) -> Result<RateLimitResult> {
        let deadline = timeout.map(|t| rt::now_ms().saturating_add(t.as_millis() as u64));
        loop {
            let r = self.limit(identifier, cost).await?;
            if r.allowed || matches!(r.reason, Reason::DenyList | Reason::Error) {
                return Ok(r);
            }
            let pause = r.retry_after_ms.max(1);
            if let Some(deadline) = deadline {
                if rt::now_ms().saturating_add(pause) > deadline {
                    return Ok(r);
                }
            }
            rt::sleep(Duration::from_millis(pause)).await;
        }
    }
}
