//! Option objects as JavaScript passes them (camelCase, durations in milliseconds) and
//! their conversion into the core's option types.

use std::time::Duration;

use napi_derive::napi;
use redkit::{Codec, Error, Result};

/// Options of `Client.connect(url, opts)`. Durations in milliseconds.
#[napi(object)]
#[derive(Default)]
pub struct ConnectOptions {
    /// Key namespace put before every key (default `rk`).
    pub prefix: Option<String>,
    /// Retries per request after a connection failure (default 3).
    pub retries: Option<u32>,
    /// Cap of the backoff between retries, ms (default 2000).
    pub retry_backoff_max: Option<f64>,
    /// Deadline per command, retries included, ms (default 5000).
    pub timeout: Option<f64>,
    /// Deadline for connecting, ms (default 5000).
    pub connect_timeout: Option<f64>,
    /// Connect on first use instead of now (default false: fail fast).
    pub lazy_connect: Option<bool>,
    /// Let requests wait for a reconnect (default true).
    pub offline_queue: Option<bool>,
    /// Most requests waiting for a reconnect at once (default 10000).
    pub offline_queue_max: Option<u32>,
}

/// Options of `client.cache(namespace, opts)`. Durations in milliseconds.
#[napi(object)]
#[derive(Default)]
pub struct CacheOptions {
    /// How long an entry is fresh, ms (default one hour).
    pub ttl: Option<f64>,
    /// Up to this much random time is added to each ttl, ms (default 0).
    pub jitter: Option<f64>,
    /// How long a stale entry may still be served while refreshing or when the loader
    /// fails, ms (default 0: off).
    pub stale_ttl: Option<f64>,
    /// XFetch beta for probabilistic early refresh; 0 turns it off (default 1).
    pub early_refresh: Option<f64>,
    /// One loader per key across processes (default true).
    pub lock: Option<bool>,
    /// Longest a loader holds the lock, and longest others wait for it, ms (default 10000).
    pub lock_timeout: Option<f64>,
    /// `json` (default) or `bytes` (values are Buffers).
    pub codec: Option<String>,
    /// Keep up to this many entries in this process, served without a round trip and kept
    /// coherent by Redis key tracking (default 0: none). Changes from other processes
    /// arrive within the invalidation latency; writes through this client are seen at once.
    pub near_cache: Option<f64>,
}

/// Options of one write (`set`, `getOrSet`).
#[napi(object)]
#[derive(Default)]
pub struct SetOptions {
    /// Fresh time of this entry, ms; the namespace ttl when absent.
    pub ttl: Option<f64>,
    /// Tags that `invalidateTags` can invalidate this entry by.
    pub tags: Option<Vec<String>>,
}

/// What `client.check()` reports.
#[napi(object)]
pub struct HealthReport {
    /// `redis_version` from INFO.
    pub server_version: String,
    /// `rdb`, `aof`, `rdb+aof` or `none`.
    pub persistence: String,
    /// `maxmemory-policy`.
    pub eviction_policy: String,
    /// Plain-language warnings; empty when nothing looks risky.
    pub warnings: Vec<String>,
}

impl HealthReport {
    /// The report as the JSON object `client.check()` resolves to (camelCase keys).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "serverVersion": self.server_version,
            "persistence": self.persistence,
            "evictionPolicy": self.eviction_policy,
            "warnings": self.warnings,
        })
        .to_string()
    }
}

impl From<redkit::HealthReport> for HealthReport {
    fn from(r: redkit::HealthReport) -> Self {
        HealthReport {
            server_version: r.server_version,
            persistence: r.persistence,
            eviction_policy: r.eviction_policy,
            warnings: r.warnings,
        }
    }
}

/// A duration given in milliseconds: a finite number, not negative.
fn ms(what: &str, value: f64) -> Result<Duration> {
    if !value.is_finite() || value < 0.0 {
        return Err(Error::invalid(format!(
            "{what} must be a finite number of milliseconds >= 0, got {value}"
        )));
    }
    Ok(Duration::from_secs_f64(value / 1000.0))
}

fn set_ms(target: &mut Duration, what: &str, value: Option<f64>) -> Result<()> {
    if let Some(v) = value {
        *target = ms(what, v)?;
    }
    Ok(())
}

/// A count: a whole number, not negative, that fits in 32 bits.
fn count(what: &str, value: f64) -> Result<usize> {
    if value.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&value) {
        return Err(Error::invalid(format!(
            "{what} must be a whole number from 0 to {}, got {value}",
            u32::MAX
        )));
    }
    Ok(value as usize)
}

impl ConnectOptions {
    /// The core's options, defaults filled in.
    pub fn into_core(self) -> Result<redkit::ConnectOptions> {
        let mut o = redkit::ConnectOptions::default();
        if let Some(p) = self.prefix {
            o.prefix = p;
        }
        if let Some(n) = self.retries {
            o.retries = n;
        }
        set_ms(
            &mut o.retry_backoff_max,
            "retryBackoffMax",
            self.retry_backoff_max,
        )?;
        set_ms(&mut o.timeout, "timeout", self.timeout)?;
        set_ms(
            &mut o.connect_timeout,
            "connectTimeout",
            self.connect_timeout,
        )?;
        if let Some(b) = self.lazy_connect {
            o.lazy_connect = b;
        }
        if let Some(b) = self.offline_queue {
            o.offline_queue = b;
        }
        if let Some(n) = self.offline_queue_max {
            o.offline_queue_max = n as usize;
        }
        Ok(o)
    }
}

impl CacheOptions {
    /// The core's options, defaults filled in.
    pub fn into_core(self) -> Result<redkit::CacheOptions> {
        let mut o = redkit::CacheOptions::default();
        set_ms(&mut o.ttl, "ttl", self.ttl)?;
        set_ms(&mut o.jitter, "jitter", self.jitter)?;
        set_ms(&mut o.stale_ttl, "staleTtl", self.stale_ttl)?;
        set_ms(&mut o.lock_timeout, "lockTimeout", self.lock_timeout)?;
        if let Some(beta) = self.early_refresh {
            o.early_refresh = beta;
        }
        if let Some(b) = self.lock {
            o.lock = b;
        }
        if let Some(c) = self.codec {
            o.codec = Codec::parse(&c)?;
        }
        if let Some(n) = self.near_cache {
            o.near_cache = count("nearCache", n)?;
        }
        Ok(o)
    }
}

impl SetOptions {
    /// The core's per-write options.
    pub fn into_core(self) -> Result<redkit::SetOptions> {
        let mut o = redkit::SetOptions::new();
        if let Some(ttl) = self.ttl {
            o = o.ttl(ms("ttl", ttl)?);
        }
        Ok(o.tags(self.tags.unwrap_or_default()))
    }
}

/// Per-write options, absent ones meaning "none".
pub fn set_options(opts: Option<SetOptions>) -> Result<redkit::SetOptions> {
    opts.unwrap_or_default().into_core()
}
