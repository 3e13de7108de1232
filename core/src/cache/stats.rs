//! What a cache handle has done since it was made: hits, misses, stale serves, near hits,
//! loader calls and errors. Relaxed atomic counters, bumped on the paths they count (a hit
//! costs one increment); read with [`Cache::stats`](crate::cache::Cache::stats).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

use crate::error::{Error, Result};

/// The counters of one cache handle (shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    stale_serves: AtomicU64,
    near_hits: AtomicU64,
    loader_calls: AtomicU64,
    errors: AtomicU64,
}

/// A snapshot of a cache handle's counters ([`Cache::stats`](crate::cache::Cache::stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CacheStats {
    /// Reads (`get`, `get_many`, `get_or_set`) answered with a fresh value.
    pub hits: u64,
    /// Reads that found no fresh value (a `get_or_set` miss then loads).
    pub misses: u64,
    /// `get_or_set` calls answered with a stale value: while another caller refreshes it,
    /// or because the loader failed (`stale_ttl`).
    pub stale_serves: u64,
    /// Of the hits, those served from the near cache (no round trip).
    pub near_hits: u64,
    /// Times a loader was called.
    pub loader_calls: u64,
    /// Calls that failed for a reason other than bad input (Redis unreachable, a timeout,
    /// a loader error), and answers `fail_safe` made without Redis.
    pub errors: u64,
}

impl Counters {
    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Relaxed);
    }
    pub(crate) fn hits(&self, n: u64) {
        if n > 0 {
            self.hits.fetch_add(n, Relaxed);
        }
    }
    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Relaxed);
    }
    pub(crate) fn misses(&self, n: u64) {
        if n > 0 {
            self.misses.fetch_add(n, Relaxed);
        }
    }
    pub(crate) fn stale_serve(&self) {
        self.stale_serves.fetch_add(1, Relaxed);
    }
    pub(crate) fn near_hits(&self, n: u64) {
        if n > 0 {
            self.near_hits.fetch_add(n, Relaxed);
        }
    }
    pub(crate) fn loader_call(&self) {
        self.loader_calls.fetch_add(1, Relaxed);
    }

    /// Count `result` as an error unless it is a success or bad input (which is the
    /// caller's mistake, not the cache failing), and hand it back.
    pub(crate) fn count<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            if !matches!(e, Error::InvalidArgument(_)) {
                self.errors.fetch_add(1, Relaxed);
            }
        }
        result
    }

    /// The counters now, `fell_back` (answers `fail_safe` made without Redis) added to the
    /// errors.
    pub(crate) fn snapshot(&self, fell_back: u64) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            stale_serves: self.stale_serves.load(Relaxed),
            near_hits: self.near_hits.load(Relaxed),
            loader_calls: self.loader_calls.load(Relaxed),
            errors: self.errors.load(Relaxed) + fell_back,
        }
    }
}
