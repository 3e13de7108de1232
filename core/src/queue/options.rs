//! What a job is added with: one schema, validated and defaulted in the core. The same
//! JSON shape is what a binding hands over, what conformance scenarios write, and what the
//! job hash stores (`opts`, docs/WIRE.md): snake_case names, durations in whole ms (or a
//! string with a unit, `"1.5s"`, on input), `remove_on_*.age` in seconds as in BullMQ.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::show;
use crate::error::{Error, Result};

/// Highest priority value (lower runs first; 0 = none). The prioritized set scores a job
/// `priority × 2^32 + counter`, exact in a double up to 2^53.
pub const MAX_PRIORITY: u32 = 1 << 21;

/// The longest delay, backoff or timeout accepted: about 35 years, in ms.
pub const MAX_DURATION_MS: u64 = 1 << 40;

/// How a retried job waits before its next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackoffKind {
    /// The same `delay` before every retry.
    Fixed,
    /// `2^(attempts_made - 1) × delay`.
    Exponential,
}

/// The wait before a retry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Backoff {
    /// `fixed` or `exponential`.
    #[serde(rename = "type")]
    pub kind: BackoffKind,
    /// The base delay.
    #[serde(
        serialize_with = "ms::serialize",
        deserialize_with = "crate::duration::serde_ms::deserialize",
        default
    )]
    pub delay: Duration,
    /// Up to this fraction (0..=1) of each delay is taken off at random, so jobs that
    /// failed together do not retry together (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub jitter: f64,
}

impl Backoff {
    /// `delay` before every retry.
    pub fn fixed(delay: Duration) -> Backoff {
        Backoff {
            kind: BackoffKind::Fixed,
            delay,
            jitter: 0.0,
        }
    }
    /// `2^(n-1) × delay` before retry n.
    pub fn exponential(delay: Duration) -> Backoff {
        Backoff {
            kind: BackoffKind::Exponential,
            delay,
            jitter: 0.0,
        }
    }
    /// Take up to `jitter` (0..=1) of each delay off at random.
    pub fn jitter(mut self, jitter: f64) -> Backoff {
        self.jitter = jitter;
        self
    }

    /// The delay before the retry that follows `attempts_made` ended attempts, with
    /// `draw` in [0, 1) standing for the random part (what queue_finish.lua computes).
    pub fn delay_for(&self, attempts_made: u32, draw: f64) -> Duration {
        let base = self.delay.as_millis() as f64;
        let mut ms = match self.kind {
            BackoffKind::Fixed => base,
            BackoffKind::Exponential => base * 2f64.powi(attempts_made.max(1) as i32 - 1),
        };
        ms -= (ms * self.jitter * draw).floor();
        Duration::from_millis(ms.min(2f64.powi(45)).floor() as u64)
    }
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// What becomes of a job once it completed (or failed for good).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Removal {
    /// Keep it (`false`, the default).
    #[default]
    Keep,
    /// Remove it at once (`true`).
    Remove,
    /// Keep the newest `n` finished jobs of that state (a number).
    KeepLast(u64),
    /// Remove it `age` after it finished, and keep at most `count` (`{age, count}`; age in
    /// seconds on the wire, as in BullMQ). Removal by age happens even when no other job
    /// finishes (workers' periodic upkeep runs it).
    KeepFor {
        /// How long it stays.
        age: Duration,
        /// At most this many of the state are kept, the newest.
        count: Option<u64>,
    },
}

impl Serialize for Removal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match *self {
            Removal::Keep => s.serialize_bool(false),
            Removal::Remove => s.serialize_bool(true),
            Removal::KeepLast(n) => s.serialize_u64(n),
            Removal::KeepFor { age, count } => {
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("age", &age.as_secs())?;
                if let Some(c) = count {
                    m.serialize_entry("count", &c)?;
                }
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Removal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct AgeCount {
            age: Option<u64>,
            count: Option<u64>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Count(u64),
            Map(AgeCount),
        }
        Ok(
            match Raw::deserialize(d).map_err(|_| {
                serde::de::Error::custom(
                    "expected true, false, a count (whole number >= 0) or {age (seconds), count}",
                )
            })? {
                Raw::Bool(false) => Removal::Keep,
                Raw::Bool(true) => Removal::Remove,
                Raw::Count(n) => Removal::KeepLast(n),
                Raw::Map(AgeCount { age: None, count }) => match count {
                    Some(n) => Removal::KeepLast(n),
                    None => Removal::Keep,
                },
                Raw::Map(AgeCount {
                    age: Some(age),
                    count,
                }) => Removal::KeepFor {
                    age: Duration::from_secs(age),
                    count,
                },
            },
        )
    }
}

/// A second add with the same deduplication `id` inside `ttl` returns the first job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Deduplication {
    /// The deduplication id.
    pub id: String,
    /// How long the id holds (default: until the job completes or fails).
    #[serde(
        serialize_with = "opt_ms::serialize",
        deserialize_with = "crate::duration::serde_ms_opt::deserialize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ttl: Option<Duration>,
}

/// Options of one job. Every field is optional: unset fields take the queue's defaults
/// (`client.queue_with(name, defaults)`), then the documented default.
///
/// Input is read by [`crate::input::read`] (every binding's native options, durations in
/// the runtime's unit) or [`JobOptions::from_json`] (the JSON form), both of which refuse
/// unknown names; the derived `Deserialize` over a job hash's stored JSON ignores names
/// it does not know, so a job written by a later build with a new option still reads here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobOptions {
    /// A custom id: adding an existing id returns the existing job. Not empty and not a
    /// decimal integer (automatic ids are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Lower runs first; 0 (default) = none, before every prioritized job. At most
    /// [`MAX_PRIORITY`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// Run no sooner than this after the add.
    #[serde(
        serialize_with = "opt_ms::serialize",
        deserialize_with = "crate::duration::serde_ms_opt::deserialize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub delay: Option<Duration>,
    /// Attempts in all, the first included (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// The wait before each retry (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// What becomes of the job once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_on_complete: Option<Removal>,
    /// What becomes of the job once failed for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_on_fail: Option<Removal>,
    /// Put the job at the head of the wait list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifo: Option<bool>,
    /// The longest one attempt may run; the worker then fails the attempt.
    #[serde(
        serialize_with = "opt_ms::serialize",
        deserialize_with = "crate::duration::serde_ms_opt::deserialize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    /// Deduplication `{id, ttl}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deduplication: Option<Deduplication>,
}

impl JobOptions {
    /// No option set.
    pub fn new() -> JobOptions {
        JobOptions::default()
    }
    /// Read options from their JSON form (what conformance scenarios and the Python
    /// binding hand over: snake_case names, durations in ms or a string with a unit) by
    /// the rules of every binding's input ([`crate::input::read`]); unknown names and
    /// ill-typed values are an [`Error::InvalidArgument`].
    pub fn from_json(value: &serde_json::Value) -> Result<JobOptions> {
        crate::input::read(
            "job options",
            crate::Input::from(value.clone()),
            crate::Dialect::RUST,
        )
    }
    /// The JSON form (only the options set).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("job options serialize")
    }
    /// `job_id`.
    pub fn job_id(mut self, id: impl Into<String>) -> Self {
        self.job_id = Some(id.into());
        self
    }
    /// `priority`.
    pub fn priority(mut self, p: u32) -> Self {
        self.priority = Some(p);
        self
    }
    /// `delay`.
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }
    /// `attempts`.
    pub fn attempts(mut self, n: u32) -> Self {
        self.attempts = Some(n);
        self
    }
    /// `backoff`.
    pub fn backoff(mut self, b: Backoff) -> Self {
        self.backoff = Some(b);
        self
    }
    /// `remove_on_complete`.
    pub fn remove_on_complete(mut self, r: Removal) -> Self {
        self.remove_on_complete = Some(r);
        self
    }
    /// `remove_on_fail`.
    pub fn remove_on_fail(mut self, r: Removal) -> Self {
        self.remove_on_fail = Some(r);
        self
    }
    /// `lifo`.
    pub fn lifo(mut self, on: bool) -> Self {
        self.lifo = Some(on);
        self
    }
    /// `timeout`.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }
    /// `deduplication`.
    pub fn deduplication(mut self, id: impl Into<String>, ttl: Option<Duration>) -> Self {
        self.deduplication = Some(Deduplication { id: id.into(), ttl });
        self
    }

    /// These options over `defaults`: each unset field takes the default's.
    pub fn over(&self, defaults: &JobOptions) -> JobOptions {
        JobOptions {
            job_id: self.job_id.clone().or_else(|| defaults.job_id.clone()),
            priority: self.priority.or(defaults.priority),
            delay: self.delay.or(defaults.delay),
            attempts: self.attempts.or(defaults.attempts),
            backoff: self.backoff.or(defaults.backoff),
            remove_on_complete: self.remove_on_complete.or(defaults.remove_on_complete),
            remove_on_fail: self.remove_on_fail.or(defaults.remove_on_fail),
            lifo: self.lifo.or(defaults.lifo),
            timeout: self.timeout.or(defaults.timeout),
            deduplication: self
                .deduplication
                .clone()
                .or_else(|| defaults.deduplication.clone()),
        }
    }

    /// Refuse options that cannot work, with the option named.
    pub fn validate(&self) -> Result<()> {
        if let Some(id) = &self.job_id {
            if id.is_empty() {
                return Err(Error::invalid("job_id must not be empty"));
            }
            if id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid(format!(
                    "job_id {id:?} is a decimal integer: those are the automatic ids"
                )));
            }
        }
        if let Some(p) = self.priority {
            if p > MAX_PRIORITY {
                return Err(Error::invalid(format!(
                    "priority must be between 0 and {MAX_PRIORITY}, got {p}"
                )));
            }
        }
        if self.attempts == Some(0) {
            return Err(Error::invalid("attempts must be at least 1"));
        }
        check_ms("delay", self.delay)?;
        check_ms("timeout", self.timeout)?;
        if self.timeout == Some(Duration::ZERO) {
            return Err(Error::invalid("timeout must be greater than zero"));
        }
        if let Some(b) = &self.backoff {
            check_ms("backoff.delay", Some(b.delay))?;
            if !(b.jitter.is_finite() && (0.0..=1.0).contains(&b.jitter)) {
                return Err(Error::invalid("backoff.jitter must be between 0 and 1"));
            }
        }
        if let Some(d) = &self.deduplication {
            if d.id.is_empty() {
                return Err(Error::invalid("deduplication.id must not be empty"));
            }
            check_ms("deduplication.ttl", d.ttl)?;
        }
        Ok(())
    }
}

impl crate::input::Options for JobOptions {
    fn validate(&self) -> Result<()> {
        JobOptions::validate(self)
    }
}

/// Durations are stored in whole milliseconds: a finer one is refused, not rounded.
fn check_ms(what: &str, d: Option<Duration>) -> Result<()> {
    match d {
        Some(d) if d.subsec_nanos() % 1_000_000 != 0 => Err(Error::invalid(format!(
            "{what} must be a whole number of milliseconds, got {}",
            show(d)
        ))),
        Some(d) if d.as_millis() > MAX_DURATION_MS as u128 => Err(Error::invalid(format!(
            "{what} must be at most {}, got {}",
            show(Duration::from_millis(MAX_DURATION_MS)),
            show(d)
        ))),
        _ => Ok(()),
    }
}

/// A duration as whole milliseconds (or, on input, a string with a unit: `"250ms"`,
/// `"1.5s"`, `"5m"`, `"1h"`, `"7d"`).
pub(crate) mod ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Ms(u64),
            Text(String),
            Other(serde_json::Value),
        }
        match Raw::deserialize(d)? {
            Raw::Ms(n) => Ok(Duration::from_millis(n)),
            Raw::Text(t) => parse(&t).ok_or_else(|| {
                serde::de::Error::custom(format!("not a duration: {t:?} (e.g. \"250ms\", \"5s\")"))
            }),
            Raw::Other(v) => Err(serde::de::Error::custom(format!(
                "expected a whole number of ms >= 0 or a duration string, got {v}"
            ))),
        }
    }

    fn parse(text: &str) -> Option<Duration> {
        let t = text.trim();
        let split = t.find(|c: char| c.is_ascii_alphabetic())?;
        let (num, unit) = t.split_at(split);
        let n: f64 = num.trim().parse().ok()?;
        let per_ms = match unit {
            "ms" => 1.0,
            "s" => 1e3,
            "m" => 60e3,
            "h" => 3600e3,
            "d" => 86400e3,
            _ => return None,
        };
        let ms = n * per_ms;
        (ms.is_finite() && ms >= 0.0 && ms < 2f64.powi(53))
            .then(|| Duration::from_millis(ms.round() as u64))
    }
}

/// [`ms`] for an optional duration (written only; read by [`crate::duration::serde_ms_opt`],
/// which applies the runtime's unit).
pub(crate) mod opt_ms {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::ms::serialize(d, s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_refused_with_the_option_named() {
        for (json, needle) in [
            (r#"{"attempts": -1}"#, "attempts"),
            (r#"{"attempts": 1.5}"#, "attempts"),
            (r#"{"attempts": 0}"#, "attempts"),
            (r#"{"priority": -2}"#, "priority"),
            (r#"{"priority": 3000000}"#, "priority"),
            (r#"{"delay": -5}"#, "delay"),
            (r#"{"delay": 2.5}"#, "delay"),
            (r#"{"job_id": "42"}"#, "job_id"),
            (r#"{"job_id": ""}"#, "job_id"),
            (r#"{"colour": 1}"#, "colour"),
            (r#"{"backoff": {"type": "linear", "delay": 5}}"#, "backoff"),
            (
                r#"{"backoff": {"type": "fixed", "delay": 5, "jitter": 2}}"#,
                "jitter",
            ),
        ] {
            let err = JobOptions::from_json(&serde_json::from_str(json).unwrap()).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{json}: {err:?}");
            assert!(err.to_string().contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn json_form_round_trips() {
        let json = r#"{"priority":3,"delay":1500,"attempts":3,"backoff":{"type":"exponential","delay":1000,"jitter":0.5},"remove_on_complete":{"age":86400},"remove_on_fail":10,"deduplication":{"id":"d","ttl":5000}}"#;
        let opts = JobOptions::from_json(&serde_json::from_str(json).unwrap()).unwrap();
        assert_eq!(opts.to_json(), json);
        assert_eq!(
            JobOptions::from_json(&serde_json::json!({"delay": "1.5s"}))
                .unwrap()
                .delay,
            Some(Duration::from_millis(1500))
        );
    }

    /// Every binding's input goes through `input::read`: JS's names and ms, Python's
    /// seconds; `remove_on_*.age` is seconds everywhere (BullMQ); unknown names refused.
    #[test]
    fn bindings_input_reads_in_each_dialect() {
        use crate::input::{read, Dialect, Input};
        let js =
            |v: serde_json::Value| read::<JobOptions>("job options", Input::from(v), Dialect::JS);
        let o = js(serde_json::json!({
            "jobId": "a", "delay": 1500, "removeOnComplete": {"age": 60, "count": 5},
            "backoff": {"type": "fixed", "delay": "2s"}, "deduplication": {"id": "d", "ttl": 10}
        }))
        .unwrap();
        assert_eq!(o.job_id.as_deref(), Some("a"));
        assert_eq!(o.delay, Some(Duration::from_millis(1500)));
        assert_eq!(o.backoff, Some(Backoff::fixed(Duration::from_secs(2))));
        assert_eq!(
            o.remove_on_complete,
            Some(Removal::KeepFor {
                age: Duration::from_secs(60),
                count: Some(5)
            })
        );
        assert_eq!(
            o.deduplication.unwrap().ttl,
            Some(Duration::from_millis(10))
        );
        for (bad, needle) in [
            (serde_json::json!({"job_id": "a"}), "jobId"),
            (serde_json::json!({"maxAttempts": 3}), "maxAttempts"),
            (
                serde_json::json!({"backoff": {"type": "fixed", "dly": 3}}),
                "backoff.dly",
            ),
            (
                serde_json::json!({"delay": 2.5}),
                "whole number of milliseconds",
            ),
        ] {
            let e = js(bad.clone()).unwrap_err();
            assert!(matches!(e, Error::InvalidArgument(_)), "{bad}: {e:?}");
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
        let py = read::<JobOptions>(
            "job options",
            Input::Map(vec![
                ("delay".into(), Input::Number(1.5)),
                (
                    "remove_on_fail".into(),
                    Input::Map(vec![("age".into(), Input::Int(3600))]),
                ),
            ]),
            Dialect::PYTHON,
        )
        .unwrap();
        assert_eq!(py.delay, Some(Duration::from_millis(1500)));
        assert_eq!(
            py.remove_on_fail,
            Some(Removal::KeepFor {
                age: Duration::from_secs(3600),
                count: None
            })
        );
    }

    #[test]
    fn stored_options_from_a_later_build_still_read() {
        let stored: JobOptions =
            serde_json::from_str(r#"{"attempts":2,"some_future_option":true}"#).unwrap();
        assert_eq!(stored.attempts, Some(2));
    }

    #[test]
    fn backoff_delays() {
        let e = Backoff::exponential(Duration::from_secs(1));
        let got: Vec<u64> = (1..=3)
            .map(|n| e.delay_for(n, 0.0).as_millis() as u64)
            .collect();
        assert_eq!(got, [1000, 2000, 4000]);
        assert_eq!(e.jitter(0.5).delay_for(2, 0.5), Duration::from_millis(1500));
    }
}
