//! The one reconnect and retry pause policy: capped exponential backoff with jitter.
//!
//! Every loop that waits before trying again uses it: a request's retries, the native
//! socket task, Node's link (through `reconnect_delay`), the push channel and blocking
//! connections (which reconnect through the same socket hosts), so a server that comes
//! back sees every client return on the same schedule.

use std::time::Duration;

/// How much of each pause is random.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// No randomness: exactly the capped exponential (tests, deterministic hosts).
    None,
    /// Half fixed, half random ("equal jitter"): clients that lost the same server do not
    /// come back in lockstep, and none comes back sooner than half the pause.
    Equal,
    /// Anywhere from zero to the whole pause ("full jitter"): the widest spread.
    Full,
}

/// A capped exponential backoff: pause `attempt` (0-based) is `base * 2^attempt`, at most
/// `cap`, then jittered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first pause, before jitter.
    pub base: Duration,
    /// The longest pause, before jitter.
    pub cap: Duration,
    /// How much of each pause is random.
    pub jitter: Jitter,
}

impl Backoff {
    /// The first pause of the default policy.
    pub const DEFAULT_BASE: Duration = Duration::from_millis(100);

    /// The client's policy: from 100 ms, doubling up to `cap`, equal jitter.
    pub fn new(cap: Duration) -> Backoff {
        Backoff {
            base: Self::DEFAULT_BASE,
            cap,
            jitter: Jitter::Equal,
        }
    }

    /// The pause before try number `attempt` (0-based), jitter applied.
    pub fn delay(&self, attempt: u32) -> Duration {
        let capped = self.ceiling(attempt);
        match self.jitter {
            Jitter::None => capped,
            Jitter::Equal => capped / 2 + crate::rt::random_up_to(capped - capped / 2),
            Jitter::Full => crate::rt::random_up_to(capped),
        }
    }

    /// The pause before try number `attempt` without jitter: the most [`Backoff::delay`]
    /// returns for it.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        // 2^16 times any sensible base is past any sensible cap: no need to go further.
        self.base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: Jitter) -> Backoff {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
            jitter,
        }
    }

    #[test]
    fn it_doubles_from_the_base_up_to_the_cap() {
        let b = policy(Jitter::None);
        let ms: Vec<u128> = (0..6).map(|a| b.delay(a).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        // No overflow however many attempts have failed.
        assert_eq!(b.delay(u32::MAX), Duration::from_millis(1000));
        let huge = Backoff {
            base: Duration::MAX,
            ..b
        };
        assert_eq!(huge.delay(40), Duration::from_millis(1000));
    }

    #[test]
    fn equal_jitter_keeps_at_least_half_and_spreads_the_rest() {
        let b = policy(Jitter::Equal);
        let pauses: Vec<Duration> = (0..200).map(|_| b.delay(3)).collect();
        for p in &pauses {
            assert!(
                *p >= Duration::from_millis(400) && *p <= Duration::from_millis(800),
                "{p:?}"
            );
        }
        let distinct: std::collections::HashSet<_> = pauses.iter().collect();
        assert!(distinct.len() > 20, "jittered pauses differ: {distinct:?}");
    }

    #[test]
    fn full_jitter_ranges_from_zero_to_the_whole_pause() {
        let b = policy(Jitter::Full);
        let pauses: Vec<Duration> = (0..400).map(|_| b.delay(10)).collect();
        assert!(pauses.iter().all(|p| *p <= Duration::from_millis(1000)));
        assert!(pauses.iter().any(|p| *p < Duration::from_millis(250)));
        assert!(pauses.iter().any(|p| *p > Duration::from_millis(750)));
    }

    #[test]
    fn a_cap_below_the_base_wins() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(30),
            jitter: Jitter::None,
        };
        assert_eq!(b.delay(0), Duration::from_millis(30));
        assert_eq!(Backoff::new(Duration::ZERO).delay(5), Duration::ZERO);
    }
}
