//! A circuit breaker in front of Redis, for the paths that have an answer without it (a
//! fail-safe cache, a rate limiter whose `on_error` or `insurance` decides).
//!
//! Without one, a dead or stalled Redis costs every request a full timeout before the
//! fallback answers. After a failure the breaker is open: Redis is skipped for `interval`,
//! and the fallback answers at once. Past the interval it is half-open: one request (the
//! probe) goes to Redis while the others keep skipping; its success closes the breaker,
//! its failure opens it for another interval. So a dead Redis costs one timeout per
//! interval, not one per request.
//!
//! A probe whose caller stopped waiting (a dropped future) never reports: a probe older
//! than the interval counts as lost, and the next request probes instead.
//!
//! The healthy path costs one relaxed atomic load before and one after each call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::Error;
use crate::rt;

/// One breaker; see the module docs. An `interval` of zero never opens.
#[derive(Debug)]
pub(crate) struct Breaker {
    interval_ms: u64,
    /// 0 while closed; else the wall-clock ms until which Redis is skipped.
    open_until_ms: AtomicU64,
    /// When the half-open probe in flight started (0: none).
    probe_since_ms: AtomicU64,
}

impl Breaker {
    /// A closed breaker that stays open for `interval` after each failure.
    pub fn new(interval: Duration) -> Breaker {
        Breaker {
            interval_ms: interval.as_millis() as u64,
            open_until_ms: AtomicU64::new(0),
            probe_since_ms: AtomicU64::new(0),
        }
    }

    /// Whether a call should skip Redis now: the breaker is open, or half-open with
    /// another request's probe in flight. `false` lets the call go (a probe, if half-open).
    #[inline]
    pub fn skips(&self) -> bool {
        let until = self.open_until_ms.load(Ordering::Relaxed);
        if until == 0 {
            return false;
        }
        self.skips_while_open(until)
    }

    #[cold]
    fn skips_while_open(&self, until: u64) -> bool {
        let now = rt::now_ms();
        if now < until {
            return true;
        }
        let since = self.probe_since_ms.load(Ordering::Acquire);
        if since != 0 && now < since.saturating_add(self.interval_ms) {
            return true;
        }
        // Half-open: the first caller to swap the probe time in is the probe.
        self.probe_since_ms
            .compare_exchange(since, now.max(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
    }

    /// Redis answered: close the breaker if it was open.
    #[inline]
    pub fn succeeded(&self) {
        if self.open_until_ms.load(Ordering::Relaxed) != 0 {
            self.open_until_ms.store(0, Ordering::Relaxed);
            self.probe_since_ms.store(0, Ordering::Release);
        }
    }

    /// Redis failed: open the breaker for one interval from now.
    pub fn failed(&self) {
        if self.interval_ms == 0 {
            return;
        }
        let until = rt::now_ms().saturating_add(self.interval_ms);
        self.open_until_ms.store(until, Ordering::Relaxed);
        self.probe_since_ms.store(0, Ordering::Release);
    }

    /// The error a skipped call reports.
    pub fn skipped(&self) -> Error {
        Error::Connection(format!(
            "Redis skipped: it failed less than {} ms ago (circuit breaker open)",
            self.interval_ms
        ))
    }
}

/// Whether `e` says Redis is unreachable, slow or unable to serve (the failures a fallback
/// covers), as opposed to the caller's mistake (a bad argument, a closed client).
pub(crate) fn is_outage(e: &Error) -> bool {
    matches!(
        e,
        Error::Connection(_) | Error::Timeout(_) | Error::Server(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_for_an_interval_then_one_probe() {
        let b = Breaker::new(Duration::from_millis(40));
        assert!(!b.skips(), "closed at first");
        b.succeeded();
        b.failed();
        assert!(b.skips() && b.skips(), "open right after a failure");
        std::thread::sleep(Duration::from_millis(50));
        assert!(!b.skips(), "half-open: the first caller probes");
        assert!(b.skips(), "the others skip while the probe is out");
        b.succeeded();
        assert!(!b.skips() && !b.skips(), "closed by the probe's success");
    }

    #[test]
    fn a_failed_probe_reopens_and_a_lost_one_expires() {
        let b = Breaker::new(Duration::from_millis(30));
        b.failed();
        std::thread::sleep(Duration::from_millis(40));
        assert!(!b.skips(), "probe");
        b.failed();
        assert!(b.skips(), "reopened");
        std::thread::sleep(Duration::from_millis(40));
        assert!(!b.skips(), "probe, never reported");
        assert!(b.skips());
        std::thread::sleep(Duration::from_millis(40));
        assert!(!b.skips(), "the lost probe expired: another probes");
    }

    #[test]
    fn a_zero_interval_never_opens() {
        let b = Breaker::new(Duration::ZERO);
        b.failed();
        assert!(!b.skips());
    }
}
