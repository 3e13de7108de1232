//! What a worker is configured with: plain public fields a binding fills from keyword
//! arguments or an options object, and one `validate` every runtime shares.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::check_min;
use crate::error::{Error, Result};

/// `limiter {max, duration}`: at most `max` jobs start per `duration`, counted across every
/// worker of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Limiter {
    /// Jobs per window (at least 1).
    pub max: u64,
    /// The window (at least 1 ms).
    #[serde(with = "crate::duration::serde_ms")]
    pub duration: Duration,
}

impl Limiter {
    /// At most `max` job starts per `duration`.
    pub fn new(max: u64, duration: Duration) -> Limiter {
        Limiter { max, duration }
    }
}

/// A worker's options (API.md, Worker): one serde schema every binding fills through
/// [`crate::input::read`] (JS `lockDuration` in ms, Python `lock_duration` in seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct WorkerOptions {
    /// Jobs processed at once by this worker (default 1).
    pub concurrency: usize,
    /// The queue's global rate limit, shared by every worker (default none).
    pub limiter: Option<Limiter>,
    /// How long a delivery's lease lasts without renewal (default 30 s). The worker renews
    /// all of its leases in one round trip every half of it (at most every second).
    #[serde(with = "crate::duration::serde_ms")]
    pub lock_duration: Duration,
    /// How often expired leases are looked for, across all workers (default 30 s). A job
    /// whose worker died runs again within `lock_duration + stalled_interval`.
    #[serde(with = "crate::duration::serde_ms")]
    pub stalled_interval: Duration,
    /// Recoveries a job may go through before it fails as stalled (default 1).
    pub max_stalled_count: u32,
    /// Start fetching when built (default true); otherwise on [`crate::worker::Worker::run`].
    pub autorun: bool,
    /// The longest an idle worker blocks on the server before it looks again (default 5 s;
    /// BullMQ's `drainDelay`). Bounds the commands an idle worker sends.
    #[serde(with = "crate::duration::serde_ms")]
    pub drain_delay: Duration,
    /// How often the worker heartbeats while idle (default 5 s).
    #[serde(with = "crate::duration::serde_ms")]
    pub heartbeat_interval: Duration,
    /// A name shown by `queue.workers()` (default empty).
    pub name: String,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            concurrency: 1,
            limiter: None,
            lock_duration: Duration::from_secs(30),
            stalled_interval: Duration::from_secs(30),
            max_stalled_count: 1,
            autorun: true,
            drain_delay: Duration::from_secs(5),
            heartbeat_interval: Duration::from_secs(5),
            name: String::new(),
        }
    }
}

/// The most jobs one worker runs at once.
const MAX_CONCURRENCY: usize = 100_000;

impl WorkerOptions {
    /// Read options from their JSON form (what the Python binding hands over from its
    /// keyword arguments): `concurrency`, `limiter {max, duration}`, `lock_duration`,
    /// `stalled_interval`, `max_stalled_count`, `autorun`, `drain_delay`,
    /// `heartbeat_interval`, `name`; durations in ms or as strings with a unit (`"30s"`).
    /// Read by [`crate::input::read`], as every binding's options: unknown names and
    /// ill-typed values are an [`Error::InvalidArgument`]; null leaves an option at its
    /// default.
    pub fn from_json(value: &serde_json::Value) -> Result<WorkerOptions> {
        crate::input::read(
            "worker options",
            crate::Input::from(value.clone()),
            crate::Dialect::RUST,
        )
    }

    /// Refuse options no worker can run with.
    pub fn validate(&self) -> Result<()> {
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return Err(Error::invalid(format!(
                "concurrency must be between 1 and {MAX_CONCURRENCY}, got {}",
                self.concurrency
            )));
        }
        if let Some(l) = self.limiter {
            if l.max == 0 {
                return Err(Error::invalid("limiter.max must be at least 1"));
            }
            check_min("limiter.duration", l.duration, Duration::from_millis(1))?;
        }
        for (name, d, min) in [
            ("lock_duration", self.lock_duration, 10),
            ("stalled_interval", self.stalled_interval, 10),
            ("drain_delay", self.drain_delay, 1),
            ("heartbeat_interval", self.heartbeat_interval, 10),
        ] {
            check_min(name, d, Duration::from_millis(min))?;
        }
        Ok(())
    }

    /// How often leases are renewed: half their duration, at most a second apart, so a
    /// `queue.cancel(id)` reaches the processor within a second.
    pub(crate) fn renew_interval(&self) -> Duration {
        (self.lock_duration / 2).min(Duration::from_secs(1))
    }
}

impl crate::input::Options for WorkerOptions {
    fn validate(&self) -> Result<()> {
        WorkerOptions::validate(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_options_are_refused_with_invalid_argument() {
        let bad = [
            WorkerOptions {
                concurrency: 0,
                ..Default::default()
            },
            WorkerOptions {
                limiter: Some(Limiter {
                    max: 0,
                    duration: Duration::from_secs(1),
                }),
                ..Default::default()
            },
            WorkerOptions {
                lock_duration: Duration::ZERO,
                ..Default::default()
            },
        ];
        for o in bad {
            assert_eq!(
                o.validate().unwrap_err().kind(),
                crate::ErrorKind::InvalidArgument
            );
        }
        assert!(WorkerOptions::default().validate().is_ok());
    }

    #[test]
    fn options_read_from_json_as_a_binding_hands_them_over() {
        let o = WorkerOptions::from_json(&serde_json::json!({
            "concurrency": 5,
            "limiter": {"max": 100, "duration": 60_000},
            "lock_duration": "10s",
            "max_stalled_count": 3,
            "autorun": false,
            "name": "mailer",
            "stalled_interval": null,
        }))
        .unwrap();
        assert_eq!(o.concurrency, 5);
        assert_eq!(
            o.limiter,
            Some(Limiter {
                max: 100,
                duration: Duration::from_secs(60)
            })
        );
        assert_eq!(o.lock_duration, Duration::from_secs(10));
        assert_eq!(o.stalled_interval, Duration::from_secs(30));
        assert_eq!((o.max_stalled_count, o.autorun), (3, false));
        let js = crate::input::read::<WorkerOptions>(
            "worker options",
            crate::Input::from(serde_json::json!({
                "lockDuration": 15_000, "maxStalledCount": 2, "limiter": {"max": 5, "duration": 1000}
            })),
            crate::Dialect::JS,
        )
        .unwrap();
        assert_eq!(js.lock_duration, Duration::from_secs(15));
        assert_eq!(js.max_stalled_count, 2);
        assert_eq!(js.limiter.unwrap().duration, Duration::from_secs(1));
        let py = crate::input::read::<WorkerOptions>(
            "worker options",
            crate::Input::Map(vec![("stalled_interval".into(), crate::Input::Number(2.5))]),
            crate::Dialect::PYTHON,
        )
        .unwrap();
        assert_eq!(py.stalled_interval, Duration::from_millis(2500));
        for bad in [
            serde_json::json!({"concurency": 5}),
            serde_json::json!({"limiter": {"max": 1, "duration": 5, "burst": 2}}),
            serde_json::json!({"concurrency": -1}),
            serde_json::json!({"concurrency": 0}),
            serde_json::json!({"lock_duration": "soon"}),
            serde_json::json!({"limiter": {"max": 1}}),
            serde_json::json!([1]),
        ] {
            let e = WorkerOptions::from_json(&bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
        }
    }
}
