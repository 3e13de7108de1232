//! Connection options, with the defaults of the API contract (shared by every runtime).

use std::time::Duration;

use crate::error::{Error, Result};
use crate::transport::backoff::Backoff;

/// How a client connects and how hard it tries. Every runtime exposes the same options
/// under the same names.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Namespace put before every key redkit writes (`rk` by default).
    pub prefix: String,
    /// How many times one request is retried after a connection failure (default 3). The
    /// connection itself is re-established in the background, with the same backoff, for
    /// as long as the client is open.
    pub retries: u32,
    /// Upper bound of the exponential backoff between retries (default 2 s).
    pub retry_backoff_max: Duration,
    /// Deadline for one command, retries included (default 5 s).
    pub timeout: Duration,
    /// Deadline for establishing a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Connect on first use instead of at construction (default false: fail fast).
    pub lazy_connect: bool,
    /// Keep requests waiting while the connection is re-established (default true).
    pub offline_queue: bool,
    /// How many requests may wait at once while reconnecting; more fail at once.
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
        Ok(())
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
