//! Options of a cache namespace and of one write.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cache::codec::Codec;
use crate::duration::{check_max, MAX_SPAN, MAX_TIMEOUT};
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
        if self.lock_timeout < Duration::from_millis(1) {
            return Err(Error::invalid("lock_timeout must be at least 1 ms"));
        }
        check_max("lock_timeout", self.lock_timeout, MAX_TIMEOUT)?;
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

/// A ttl must be at least one millisecond (Redis' PX unit), and at most [`MAX_SPAN`].
pub fn check_ttl(what: &str, ttl: Duration) -> Result<()> {
    if ttl < Duration::from_millis(1) {
        return Err(Error::invalid(format!(
            "{what} must be at least 1 ms, got {ttl:?}"
        )));
    }
    check_max(what, ttl, MAX_SPAN)
}
