//! What a rate limiter is configured with: plain public fields, so a binding can fill them
//! from keyword arguments or an options object, and one `validate` every runtime shares.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::{check_max, check_min, MAX_SPAN, MAX_TIMEOUT};
use crate::error::{Error, Result};

/// The algorithm deciding each request. Every one is a single Lua script: one round trip
/// per decision, atomic, on the server's clock unless told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// Generic cell rate algorithm: one small integer key per identifier, smooth, with
    /// `burst`. The default.
    #[default]
    Gcra,
    /// Token bucket: `limit + burst` tokens, refilled at `limit` per window.
    TokenBucket,
    /// Weighted two-window counter: constant memory, approximate (see docs/ratelimit.md
    /// for its error bound).
    SlidingWindow,
    /// Exact sliding log on a sorted set: memory grows with `limit`.
    SlidingLog,
    /// Counter per window aligned on the Unix epoch.
    FixedWindow,
}

impl Algorithm {
    /// Every algorithm, in documentation order.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Gcra,
        Algorithm::TokenBucket,
        Algorithm::SlidingWindow,
        Algorithm::SlidingLog,
        Algorithm::FixedWindow,
    ];

    /// Parse the name every runtime uses (`gcra`, `token_bucket`, `sliding_window`,
    /// `sliding_log`, `fixed_window`).
    pub fn parse(name: &str) -> Result<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown rate limit algorithm {name:?} (expected one of gcra, token_bucket, \
                 sliding_window, sliding_log, fixed_window)"
                ))
            })
    }

    /// The algorithm's name, as [`Algorithm::parse`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Gcra => "gcra",
            Algorithm::TokenBucket => "token_bucket",
            Algorithm::SlidingWindow => "sliding_window",
            Algorithm::SlidingLog => "sliding_log",
            Algorithm::FixedWindow => "fixed_window",
        }
    }

    /// Whether `burst` means something for this algorithm (the bucket-shaped ones).
    pub fn has_burst(self) -> bool {
        matches!(self, Algorithm::Gcra | Algorithm::TokenBucket)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a decision answers when Redis fails or does not answer within `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnError {
    /// Deny the request (fail closed). The result's `reason` is `error`. The default.
    #[default]
    Deny,
    /// Allow the request (fail open). The result's `reason` is `error`.
    Allow,
    /// Return the error to the caller.
    Raise,
}

impl OnError {
    /// Parse `deny`, `allow` or `raise`.
    pub fn parse(name: &str) -> Result<OnError> {
        match name {
            "deny" => Ok(OnError::Deny),
            "allow" => Ok(OnError::Allow),
            "raise" => Ok(OnError::Raise),
            other => Err(Error::invalid(format!(
                "unknown on_error {other:?} (expected deny, allow or raise)"
            ))),
        }
    }

    /// The name [`OnError::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::Deny => "deny",
            OnError::Allow => "allow",
            OnError::Raise => "raise",
        }
    }
}

/// Whose clock the scripts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClockMode {
    /// The server's `TIME`, read inside the script: clients with skewed clocks agree. The
    /// default.
    #[default]
    Server,
    /// This process's wall clock, sent with each call, for servers (or proxies) that
    /// refuse `TIME` inside scripts. Every client sharing a limiter must then keep its
    /// clock in sync.
    Client,
}

impl ClockMode {
    /// Parse `server` or `client`.
    pub fn parse(name: &str) -> Result<ClockMode> {
        match name {
            "server" => Ok(ClockMode::Server),
            "client" => Ok(ClockMode::Client),
            other => Err(Error::invalid(format!(
                "unknown clock {other:?} (expected server or client)"
            ))),
        }
    }

    /// The name [`ClockMode::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockMode::Server => "server",
            ClockMode::Client => "client",
        }
    }
}

crate::input::serde_by_name!(Algorithm, OnError, ClockMode);

/// One limit: at most `limit` per `window`, plus `burst` for the bucket algorithms. Read
/// from `{limit, window, burst}` or a `(limit, window[, burst])` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Rule {
    /// Requests (cost units) per window; at least 1.
    pub limit: i64,
    /// The window; at least 1 ms, at most [`MAX_SPAN`].
    #[serde(with = "crate::duration::serde_ms")]
    pub window: Duration,
    /// Extra capacity on top of `limit` that may be spent at once (gcra and token_bucket
    /// only; 0 elsewhere).
    #[serde(default)]
    pub burst: i64,
}

impl Rule {
    /// `limit` per `window`, no burst.
    pub fn new(limit: i64, window: Duration) -> Rule {
        Rule {
            limit,
            window,
            burst: 0,
        }
    }

    /// This rule with `burst` extra capacity.
    pub fn burst(mut self, burst: i64) -> Rule {
        self.burst = burst;
        self
    }

    /// The most one decision can ever allow under this rule.
    pub fn capacity(&self) -> i64 {
        self.limit.saturating_add(self.burst)
    }

    fn validate(&self, what: &str, algorithm: Algorithm) -> Result<()> {
        if self.limit < 1 {
            return Err(Error::invalid(format!(
                "{what}limit must be at least 1, got {}",
                self.limit
            )));
        }
        check_min(
            &format!("{what}window"),
            self.window,
            Duration::from_millis(1),
        )?;
        check_max(&format!("{what}window"), self.window, MAX_SPAN)?;
        if self.burst < 0 {
            return Err(Error::invalid(format!(
                "{what}burst must not be negative, got {}",
                self.burst
            )));
        }
        if self.burst > 0 && !algorithm.has_burst() {
            return Err(Error::invalid(format!(
                "{what}burst applies to gcra and token_bucket only, not {algorithm}"
            )));
        }
        if self.capacity() > MAX_CAPACITY {
            return Err(Error::invalid(format!(
                "{what}limit + burst must be at most {MAX_CAPACITY}"
            )));
        }
        Ok(())
    }
}

/// Scripts compute in doubles: keep every number far inside their exact integer range.
const MAX_CAPACITY: i64 = 1 << 40;

/// Every option of a rate limiter, with the defaults of the API contract, read from every
/// runtime's native options by [`crate::input::read`] (`extra_limits` under the name
/// `limits`). `timeout` is at most [`MAX_TIMEOUT`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimiterOptions {
    /// Requests (cost units) per window (default 10).
    pub limit: i64,
    /// The window (default 1 s).
    #[serde(with = "crate::duration::serde_ms")]
    pub window: Duration,
    /// The algorithm (default gcra).
    pub algorithm: Algorithm,
    /// Extra capacity for gcra and token_bucket (default 0).
    pub burst: i64,
    /// More limits decided in the same atomic call (say 1000 per hour beside 10 per
    /// second): a request is allowed only when every limit allows it, and then consumes
    /// from all of them.
    #[serde(rename = "limits")]
    pub extra_limits: Vec<Rule>,
    /// Record denied requests too, so a client that keeps retrying stays blocked
    /// (default false).
    pub count_denied: bool,
    /// What to answer when Redis fails or is slower than `timeout` (default deny).
    pub on_error: OnError,
    /// The longest one decision may wait for Redis (default 1 s).
    #[serde(with = "crate::duration::serde_ms")]
    pub timeout: Duration,
    /// Remember denied identifiers in this process until their retry time, so a blocked
    /// client costs no round trip (default false).
    pub local_block: bool,
    /// Whose clock decides (default the server's).
    pub clock: ClockMode,
    /// While Redis is unreachable, decide with an in-process limiter of the same algorithm
    /// and rules (each process then enforces the whole limit on its own) instead of
    /// `on_error` (default false). See `ratelimit/insurance.rs`.
    pub insurance: bool,
    /// After Redis failed, decide without it for this long (then one call probes), so a
    /// dead Redis costs one `timeout` per interval, not one per request (default 1 s; 0
    /// always asks Redis). Not used with `on_error="raise"` and no insurance.
    #[serde(with = "crate::duration::serde_ms")]
    pub circuit_breaker: Duration,
    /// Once a request is denied, deny the identifier for this long, in every process
    /// (default 0: off).
    #[serde(with = "crate::duration::serde_ms")]
    pub block_for: Duration,
    /// Identifiers always allowed, decided in-process with no round trip.
    pub allow_list: Vec<String>,
    /// Identifiers always denied, decided in-process with no round trip.
    pub deny_list: Vec<String>,
}

impl Default for RateLimiterOptions {
    fn default() -> Self {
        RateLimiterOptions {
            limit: 10,
            window: Duration::from_secs(1),
            algorithm: Algorithm::Gcra,
            burst: 0,
            extra_limits: Vec::new(),
            count_denied: false,
            on_error: OnError::Deny,
            timeout: Duration::from_secs(1),
            local_block: false,
            clock: ClockMode::Server,
            insurance: false,
            circuit_breaker: Duration::from_secs(1),
            block_for: Duration::ZERO,
            allow_list: Vec::new(),
            deny_list: Vec::new(),
        }
    }
}

impl RateLimiterOptions {
    /// Every rule of the limiter: the main one first, then `extra_limits`.
    pub fn rules(&self) -> Vec<Rule> {
        let main = Rule {
            limit: self.limit,
            window: self.window,
            burst: self.burst,
        };
        std::iter::once(main)
            .chain(self.extra_limits.iter().copied())
            .collect()
    }

    /// Reject settings no limiter can work with.
    pub fn validate(&self) -> Result<()> {
        for (i, rule) in self.rules().iter().enumerate() {
            let what = if i == 0 {
                String::new()
            } else {
                format!("limits[{}].", i - 1)
            };
            rule.validate(&what, self.algorithm)?;
        }
        check_min("timeout", self.timeout, Duration::from_millis(1))?;
        check_max("timeout", self.timeout, MAX_TIMEOUT)?;
        check_max("circuit_breaker", self.circuit_breaker, MAX_TIMEOUT)?;
        check_max("block_for", self.block_for, MAX_SPAN)?;
        super::lists::check(&self.allow_list, &self.deny_list)
    }

    /// The largest cost one call may ask for: anything above it could never be allowed.
    pub fn max_cost(&self) -> i64 {
        self.rules().iter().map(Rule::capacity).min().unwrap_or(0)
    }
}

impl crate::input::Options for RateLimiterOptions {
    fn validate(&self) -> Result<()> {
        RateLimiterOptions::validate(self)
    }

    /// `rate` stands for `limit` and `window` (see [`super::rate`]).
    fn prepare(input: crate::input::Input) -> Result<crate::input::Input> {
        super::rate::expand(input)
    }
}

/// A duration from a number of milliseconds (the shared rule of [`crate::duration`]):
/// negative, NaN, infinite and overlong values are an [`Error::InvalidArgument`].
pub fn duration_from_ms(what: &str, ms: f64) -> Result<Duration> {
    crate::duration::from_number(what, ms, crate::duration::Unit::Millis)
}

/// A whole number as a binding receives it (a JS number: a limit, a cost, a time in ms):
/// fractions, NaN, infinities and values beyond 2^53 (where doubles stop being exact) are
/// an [`Error::InvalidArgument`]. The range that makes sense is checked by `validate`.
pub fn whole_number(what: &str, n: f64) -> Result<i64> {
    const MAX_EXACT: f64 = 9_007_199_254_740_991.0;
    if n.is_finite() && n.fract() == 0.0 && n.abs() <= MAX_EXACT {
        Ok(n as i64)
    } else {
        Err(Error::invalid(format!(
            "{what} must be a whole number, got {n}"
        )))
    }
}
