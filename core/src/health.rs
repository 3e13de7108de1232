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
    // them when queues live here. Natively the queues are always looked for (a queue
    // whose jobs wait with no worker alive is reported); on the edge, which runs no
    // worker and pays per request, only under `allkeys-*`.
    let evicts_anything = eviction_policy.starts_with("allkeys");
    let look = evicts_anything || cfg!(not(target_arch = "wasm32"));
    let queues = if look {
        queue_names(transport, prefix).await
    } else {
        Vec::new()
    };
    // What a restart or an eviction can lose: jobs are named only where queues were found,
    // so a cache- or limiter-only prefix is not told about queues it does not have.
    let at_risk = if queues.is_empty() {
        "locks and rate-limit state"
    } else {
        "queued jobs, locks and rate-limit state"
    };
    let mut warnings = Vec::new();
    if !aof {
        warnings.push(format!(
            "AOF is off: {at_risk} written since the last snapshot are lost if the server restarts \
             (set appendonly yes, appendfsync everysec)"
        ));
    }
    if evicts_anything {
        warnings.push(format!(
            "maxmemory-policy is {eviction_policy}: under memory pressure the server may evict {at_risk}; \
             use a volatile-* policy (only keys with an expiry, as every cache entry has, are evicted) or noeviction"
        ));
    }
    if cfg!(not(target_arch = "wasm32")) && !queues.is_empty() {
        warnings.extend(stuck_queues(transport, prefix, &queues).await);
    }
    Ok(HealthReport {
        server_version,
        persistence,
        eviction_policy,
        warnings,
    })
}

/// How long without a heartbeat before a queue with waiting jobs is reported stuck.
const STUCK_AFTER_MS: i64 = 60_000;

/// The most queues check() looks at.
const MAX_QUEUES: usize = 100;

/// The queues of `prefix` on the server (by their `meta` hash), found with at most
/// [`QUEUE_SCANS`] SCAN calls, at most [`MAX_QUEUES`]. A server that refuses SCAN has none.
async fn queue_names(transport: &dyn Transport, prefix: &str) -> Vec<String> {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '*' | '?' | '[' | ']' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("{escaped}:{{queue:*}}:meta");
    let head = format!("{prefix}:{{queue:");
    let mut names = Vec::new();
    let mut cursor = "0".to_string();
    for _ in 0..QUEUE_SCANS {
        let cmd = Cmd::new("SCAN")
            .arg(&cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000usize);
        let Ok(reply) = transport.send(cmd).await.and_then(|r| r.into_array()) else {
            break;
        };
        let mut parts = reply.into_iter();
        cursor = parts
            .next()
            .and_then(|c| c.into_string().ok().flatten())
            .unwrap_or_else(|| "0".into());
        for key in parts
            .next()
            .and_then(|k| k.into_array().ok())
            .unwrap_or_default()
        {
            let name = key
                .into_string()
                .ok()
                .flatten()
                .and_then(|k| Some(k.strip_prefix(&head)?.strip_suffix("}:meta")?.to_string()));
            if let Some(name) = name.filter(|n| !names.contains(n)) {
                names.push(name);
            }
        }
        if cursor == "0" || names.len() >= MAX_QUEUES {
            break;
        }
    }
    names.truncate(MAX_QUEUES);
    names
}

/// A warning per queue whose jobs wait while no worker heartbeat came for
/// [`STUCK_AFTER_MS`] (or ever): one pipeline for all of them.
async fn stuck_queues(transport: &dyn Transport, prefix: &str, queues: &[String]) -> Vec<String> {
    let mut cmds = vec![Cmd::new("TIME")];
    for q in queues {
        let base = format!("{prefix}:{{queue:{q}}}:");
        cmds.push(
            Cmd::new("ZRANGE")
                .arg(format!("{base}workers"))
                .arg(-1i64)
                .arg(-1i64)
                .arg("WITHSCORES"),
        );
        cmds.push(Cmd::new("LLEN").arg(format!("{base}wait")));
        cmds.push(Cmd::new("ZCARD").arg(format!("{base}prio")));
    }
    let Ok(replies) = transport.pipeline(cmds).await else {
        return Vec::new();
    };
    let mut it = replies.into_iter();
    let now = it
        .next()
        .and_then(|t| t.into_array().ok())
        .and_then(|t| t.first().and_then(|s| s.as_int().ok()))
        .map_or(0, |s| s * 1000);
    let mut out = Vec::new();
    for q in queues {
        let (Some(seen), Some(wait), Some(prio)) = (it.next(), it.next(), it.next()) else {
            break;
        };
        let waiting = wait.as_int().unwrap_or(0) + prio.as_int().unwrap_or(0);
        let last = seen
            .into_array()
            .ok()
            .and_then(|a| a.into_iter().nth(1))
            .and_then(|s| s.as_f64().ok())
            .map(|ms| ms as i64);
        if waiting == 0 {
            continue;
        }
        match last {
            None => out.push(format!(
                "queue {q}: {waiting} jobs waiting and no worker is registered"
            )),
            Some(at) if now - at > STUCK_AFTER_MS => out.push(format!(
                "queue {q}: {waiting} jobs waiting and no worker seen for {} s",
                (now - at) / 1000
            )),
            Some(_) => {}
        }
    }
    out
}
