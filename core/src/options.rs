//! Connection options, with the defaults of the API contract (shared by every runtime).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::{check_max, MAX_TIMEOUT};
use crate::error::{Error, Result};
use crate::transport::backoff::Backoff;

/// The most retries one request may ask for: more cannot fit in any sensible deadline.
pub const MAX_RETRIES: u32 = 100;

/// How a client connects and how hard it tries. Every runtime exposes the same options
/// under the same names, read from its native options by [`crate::input::read`].
///
/// Durations are at most [`MAX_TIMEOUT`]; `retries` at most [`MAX_RETRIES`],
/// `offline_queue_max` at most 2^32 - 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Namespace put before every key redkit writes (`rk` by default).
    pub prefix: String,
    /// How many times one request is retried after a connection failure (default 3). The
    /// connection itself is re-established in the background, with the same backoff, for
    /// as long as the client is open.
    #[serde(deserialize_with = "crate::input::count::deserialize")]
    pub retries: u32,
    /// Upper bound of the exponential backoff between retries (default 2 s).
    #[serde(with = "crate::duration::serde_ms")]
    pub retry_backoff_max: Duration,
    /// Deadline for one command, retries included (default 5 s).
    #[serde(with = "crate::duration::serde_ms")]
    pub timeout: Duration,
    /// Deadline for establishing a connection (default 5 s).
    #[serde(with = "crate::duration::serde_ms")]
    pub connect_timeout: Duration,
    /// Connect on first use instead of at construction (default false: fail fast).
    pub lazy_connect: bool,
    /// Keep requests waiting while the connection is re-established (default true).
    pub offline_queue: bool,
    /// How many requests may wait at once while reconnecting; more fail at once.
    #[serde(deserialize_with = "crate::input::count::deserialize")]
    pub offline_queue_max: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            prefix: "rk".into(),
            retries: 3,
            retry_backoff_max: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            lazy_connect: false,
            offline_queue: true,
            offline_queue_max: 10_000,
        }
    }
}

impl ConnectOptions {
    /// Check the options for values no connection can work with.
    pub fn validate(&self) -> Result<()> {
        if self.prefix.is_empty() {
            return Err(Error::invalid("prefix must not be empty"));
        }
        if self.prefix.contains(['{', '}']) {
            return Err(Error::invalid(
                "prefix must not contain '{' or '}' (hash tags)",
            ));
        }
        if self.timeout.is_zero() {
            return Err(Error::invalid("timeout must be greater than zero"));
        }
        if self.connect_timeout.is_zero() {
            return Err(Error::invalid("connect_timeout must be greater than zero"));
        }
        check_max("timeout", self.timeout, MAX_TIMEOUT)?;
        check_max("connect_timeout", self.connect_timeout, MAX_TIMEOUT)?;
        check_max("retry_backoff_max", self.retry_backoff_max, MAX_TIMEOUT)?;
        if self.retries > MAX_RETRIES {
            return Err(Error::invalid(format!(
                "retries must be a whole number from 0 to {MAX_RETRIES}, got {}",
                self.retries
            )));
        }
        if self.offline_queue_max > u32::MAX as usize {
            return Err(Error::invalid(format!(
                "offline_queue_max must be a whole number from 0 to {}, got {}",
                u32::MAX,
                self.offline_queue_max
            )));
        }
        Ok(())
    }

    /// These options with another key prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
    /// These options with another retry count.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }
    /// These options with another backoff cap.
    pub fn retry_backoff_max(mut self, max: Duration) -> Self {
        self.retry_backoff_max = max;
        self
    }
    /// These options with another command deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// These options with another connect deadline.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// These options, connecting on first use or not.
    pub fn lazy_connect(mut self, on: bool) -> Self {
        self.lazy_connect = on;
        self
    }
    /// These options, with or without the offline queue.
    pub fn offline_queue(mut self, on: bool) -> Self {
        self.offline_queue = on;
        self
    }
    /// These options with another offline queue bound.
    pub fn offline_queue_max(mut self, max: usize) -> Self {
        self.offline_queue_max = max;
        self
    }

    /// The one backoff policy of this client ([`Backoff`]): from 100 ms, doubling up to
    /// `retry_backoff_max`, with equal jitter. Request retries and every reconnect loop
    /// (the socket task, Node's link, push channels, blocking connections) pause by it.
    pub fn backoff_policy(&self) -> Backoff {
        Backoff::new(self.retry_backoff_max)
    }

    /// The pause before retry number `attempt` (0-based) under [`Self::backoff_policy`].
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.backoff_policy().delay(attempt)
    }
}

impl crate::input::Options for ConnectOptions {
    fn validate(&self) -> Result<()> {
        ConnectOptions::validate(self)
    }
}
