//! `Client::check()`: what the server is, and the settings that quietly lose data.

use crate::error::Result;
use crate::transport::Transport;
use crate::value::Cmd;

/// The result of [`crate::Client::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// `redis_version` (or the engine's own) from INFO.
    pub server_version: String,
    /// `rdb`, `aof`, `rdb+aof` or `none`.
    pub persistence: String,
    /// `maxmemory-policy`.
    pub eviction_policy: String,
    /// Plain-language warnings; empty when nothing looks risky.
    pub warnings: Vec<String>,
}

/// How many SCAN calls (of 1,000 keys each) look for a queue before check() concludes
/// there is none: a bound on a diagnostic's work, whatever the keyspace's size.
const QUEUE_SCANS: usize = 20;

pub(crate) async fn check(transport: &dyn Transport, prefix: &str) -> Result<HealthReport> {
    // CONFIG is often forbidden (managed services, gateways): its error only leaves the
    // snapshot setting unknown.
    let mut replies = transport
        .pipeline(vec![
            Cmd::new("INFO"),
            Cmd::new("CONFIG").arg("GET").arg("save"),
        ])
        .await?
        .into_iter();
    let info = replies
        .next()
        .unwrap_or(crate::Value::Nil)
        .into_string()?
        .unwrap_or_default();
    let save_config = replies
        .next()
        .and_then(|v| v.into_array().ok())
        .and_then(|a| a.into_iter().nth(1))
        .and_then(|v| v.into_string().ok().flatten());
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
            .map(|v| v.trim().to_string())
    };
    let server_version = field("redis_version").unwrap_or_else(|| "unknown".into());
    let aof = field("aof_enabled").as_deref() == Some("1");
    let rdb = save_config.map(|s| !s.trim().is_empty()).unwrap_or(false);
    let persistence = match (rdb, aof) {
        (true, true) => "rdb+aof",
        (false, true) => "aof",
        (true, false) => "rdb",
        (false, false) => "none",
    }
    .to_string();
    let eviction_policy = field("maxmemory_policy").unwrap_or_else(|| "unknown".into());
    // Queue keys never carry an expiry and cache keys always do, so `volatile-*` policies
    // evict only cache entries: safe for both. `allkeys-*` may evict jobs: worth naming
    // them when queues live here (looked for only then).
    let evicts_anything = eviction_policy.starts_with("allkeys");
    let queues = evicts_anything && queues_in_use(transport, prefix).await;
    let mut warnings = Vec::new();
    if !aof {
        warnings.push(
            "AOF is off: queued jobs written since the last snapshot are lost if the server restarts \
             (set appendonly yes, appendfsync everysec)"
                .to_string(),
        );
    }
    if evicts_anything {
        let what = if queues {
            "queued jobs, locks and rate-limit state"
        } else {
            "locks and rate-limit state (and queued jobs, once queues live here)"
        };
        warnings.push(format!(
            "maxmemory-policy is {eviction_policy}: under memory pressure the server may evict {what}; \
             use a volatile-* policy (only keys with an expiry, as every cache entry has, are evicted) or noeviction"
        ));
    }
    Ok(HealthReport {
        server_version,
        persistence,
        eviction_policy,
        warnings,
    })
}

/// Whether any queue of `prefix` has keys on the server (its `meta` hash), looked for with
/// at most [`QUEUE_SCANS`] SCAN calls. A server that refuses SCAN says no.
async fn queues_in_use(transport: &dyn Transport, prefix: &str) -> bool {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '*' | '?' | '[' | ']' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("{escaped}:{{queue:*}}:meta");
    let mut cursor = "0".to_string();
    for _ in 0..QUEUE_SCANS {
        let cmd = Cmd::new("SCAN")
            .arg(&cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000usize);
        let Ok(reply) = transport.send(cmd).await.and_then(|r| r.into_array()) else {
            return false;
        };
        let mut parts = reply.into_iter();
        cursor = parts
            .next()
            .and_then(|c| c.into_string().ok().flatten())
            .unwrap_or_else(|| "0".into());
        let found = parts
            .next()
            .and_then(|k| k.into_array().ok())
            .is_some_and(|k| !k.is_empty());
        if found {
            return true;
        }
        if cursor == "0" {
            return false;
        }
    }
    false
}
