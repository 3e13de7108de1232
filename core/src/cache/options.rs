//! Options of a cache namespace and of one write.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cache::codec::Codec;
use crate::duration::{check_max, check_min, MAX_SPAN, MAX_TIMEOUT};
use crate::error::{Error, Result};

/// Settings of one cache namespace (`client.cache(ns)` builder), read from every runtime's
/// native options by [`crate::input::read`]. `ttl`, `jitter` and `stale_ttl` are at most
/// [`MAX_SPAN`], `lock_timeout` at most [`MAX_TIMEOUT`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CacheOptions {
    /// How long an entry is fresh (default 1 hour).
    #[serde(with = "crate::duration::serde_ms")]
    pub ttl: Duration,
    /// Up to this much random time is added to each ttl, so keys written together do not
    /// expire together (default 0).
    #[serde(with = "crate::duration::serde_ms")]
    pub jitter: Duration,
    /// How long after turning stale an entry may still be served: while one caller
    /// refreshes it, and when the loader fails (default 0: off).
    #[serde(with = "crate::duration::serde_ms")]
    pub stale_ttl: Duration,
    /// XFetch β: > 0 recomputes probabilistically before expiry, 1.0 as in the paper, 0 off
    /// (default 1.0).
    pub early_refresh: f64,
    /// Allow one loader per key across processes (a Redis lock); others wait, then read
    /// (default true).
    pub lock: bool,
    /// How long the loader lock is held at most, and how long others wait for it
    /// (default 10 s).
    #[serde(with = "crate::duration::serde_ms")]
    pub lock_timeout: Duration,
    /// Value encoding (default JSON).
    pub codec: Codec,
    /// Entries kept in process memory at most, served without a round trip and kept
    /// coherent by Redis' key tracking (default 0: none; at most 2^32 - 1). See
    /// [`crate::cache::near`].
    #[serde(deserialize_with = "crate::input::count::deserialize")]
    pub near_cache: usize,
    /// When Redis fails or is slower than `soft_timeout` on a read, answer without it:
    /// the copy this process has (stale or not), else the loader's value, unstored; a
    /// `get` answers a miss. See [`crate::cache::fail_safe`] (default false).
    pub fail_safe: bool,
    /// With `fail_safe`: the longest a cache call waits for Redis before answering without
    /// it (default 1 s; without `fail_safe` the client's `timeout` bounds every call).
    #[serde(with = "crate::duration::serde_ms")]
    pub soft_timeout: Duration,
    /// With `fail_safe`: after Redis failed, skip it for this long (then one call probes),
    /// so a dead Redis costs one `soft_timeout` per interval, not one per call (default
    /// 1 s; 0 always asks Redis).
    #[serde(with = "crate::duration::serde_ms")]
    pub circuit_breaker: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            ttl: Duration::from_secs(3600),
            jitter: Duration::ZERO,
            stale_ttl: Duration::ZERO,
            early_refresh: 1.0,
            lock: true,
            lock_timeout: Duration::from_secs(10),
            codec: Codec::Json,
            near_cache: 0,
            fail_safe: false,
            soft_timeout: Duration::from_secs(1),
            circuit_breaker: Duration::from_secs(1),
        }
    }
}

impl CacheOptions {
    /// Reject settings that cannot work.
    pub fn validate(&self) -> Result<()> {
        check_ttl("ttl", self.ttl)?;
        if !(self.early_refresh.is_finite() && self.early_refresh >= 0.0) {
            return Err(Error::invalid("early_refresh must be a finite number >= 0"));
        }
        check_max("jitter", self.jitter, MAX_SPAN)?;
        check_max("stale_ttl", self.stale_ttl, MAX_SPAN)?;
        check_min("lock_timeout", self.lock_timeout, Duration::from_millis(1))?;
        check_max("lock_timeout", self.lock_timeout, MAX_TIMEOUT)?;
        if self.soft_timeout < Duration::from_millis(1) {
            return Err(Error::invalid("soft_timeout must be at least 1 ms"));
        }
        check_max("soft_timeout", self.soft_timeout, MAX_TIMEOUT)?;
        check_max("circuit_breaker", self.circuit_breaker, MAX_TIMEOUT)?;
        // The bound every binding checks too: one size means the same everywhere.
        if self.near_cache > u32::MAX as usize {
            return Err(Error::invalid(format!(
                "near_cache must be a whole number from 0 to {}, got {}",
                u32::MAX,
                self.near_cache
            )));
        }
        Ok(())
    }
}

impl crate::input::Options for CacheOptions {
    fn validate(&self) -> Result<()> {
        CacheOptions::validate(self)
    }
}

/// Per-write options: a ttl that overrides the namespace's, and tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SetOptions {
    /// Fresh time of this entry; the namespace ttl when `None`.
    #[serde(with = "crate::duration::serde_ms_opt")]
    pub ttl: Option<Duration>,
    /// Tags that [`crate::cache::Cache::invalidate_tags`] can invalidate this entry by.
    pub tags: Vec<String>,
}

impl SetOptions {
    /// No overrides, no tags.
    pub fn new() -> Self {
        Self::default()
    }

    /// Override the ttl.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Add tags.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }
}

impl crate::input::Options for SetOptions {
    fn validate(&self) -> Result<()> {
        self.ttl.map_or(Ok(()), |ttl| check_ttl("ttl", ttl))
    }
}

pub use crate::duration::check_ttl;
