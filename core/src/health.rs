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

pub(crate) async fn check(transport: &dyn Transport) -> Result<HealthReport> {
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
    let mut warnings = Vec::new();
    if !aof {
        warnings.push(
            "AOF is off: queued jobs written since the last snapshot are lost if the server restarts \
             (set appendonly yes, appendfsync everysec)"
                .to_string(),
        );
    }
    if eviction_policy != "noeviction" && eviction_policy != "unknown" {
        warnings.push(format!(
            "maxmemory-policy is {eviction_policy}: under memory pressure the server may evict \
             queue, lock and rate-limit keys; use noeviction for those (a separate instance for caches)"
        ));
    }
    Ok(HealthReport {
        server_version,
        persistence,
        eviction_policy,
        warnings,
    })
}
