//! Which commands the gateway runs, and where.

use crate::error::ApiError;
use crate::request::Command;
use axum::http::StatusCode;
use std::collections::HashSet;

/// Commands that would change the state of the one connection every request shares (a
/// MULTI left open, a SELECTed database, a subscription, a replication stream), so they are
/// refused whatever the deny list says. Transactions go through `/multi-exec` instead.
const CONNECTION_STATE: &[&str] = &[
    "AUTH",
    "CLIENT REPLY",
    "CLIENT TRACKING",
    "DISCARD",
    "EXEC",
    "HELLO",
    "MONITOR",
    "MULTI",
    "PSUBSCRIBE",
    "PSYNC",
    "PUNSUBSCRIBE",
    "QUIT",
    "READONLY",
    "READWRITE",
    "REPLCONF",
    "RESET",
    "SELECT",
    "SSUBSCRIBE",
    "SUBSCRIBE",
    "SUNSUBSCRIBE",
    "SYNC",
    "UNSUBSCRIBE",
    "UNWATCH",
    "WATCH",
];

/// Commands that may block the connection they run on; they get one of their own so they
/// never stall the shared one.
const BLOCKING: &[&str] = &[
    "BLMOVE",
    "BLMPOP",
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BZMPOP",
    "BZPOPMAX",
    "BZPOPMIN",
    "WAIT",
    "WAITAOF",
];

/// The deny list, normalised to upper case.
#[derive(Debug, Clone)]
pub struct Policy {
    deny: HashSet<String>,
}

impl Policy {
    /// A policy refusing `deny` (entries `CMD` or `CMD SUBCMD`, any case and spacing).
    pub fn new(deny: &[String]) -> Policy {
        Policy {
            deny: deny
                .iter()
                .map(|d| normalise(d))
                .filter(|d| !d.is_empty())
                .collect(),
        }
    }

    /// Refuse the command (403) or say whether it may block.
    pub fn check(&self, cmd: &Command) -> Result<bool, ApiError> {
        let name = upper(&cmd[0]);
        let with_sub = cmd.get(1).map(|sub| format!("{name} {}", upper(sub)));
        let names = || std::iter::once(&name).chain(with_sub.as_ref());
        if let Some(n) = names().find(|n| CONNECTION_STATE.contains(&n.as_str())) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("ERR {n} is not supported by this gateway: every request shares one Redis connection (use /multi-exec for transactions)"),
            ));
        }
        if let Some(n) = names().find(|n| self.deny.contains(n.as_str())) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("ERR {n} is denied by this gateway"),
            ));
        }
        let blocking = BLOCKING.contains(&name.as_str())
            || (matches!(name.as_str(), "XREAD" | "XREADGROUP")
                && cmd.iter().any(|a| a.eq_ignore_ascii_case(b"BLOCK")));
        Ok(blocking)
    }
}

fn upper(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_ascii_uppercase()
}

fn normalise(entry: &str) -> String {
    entry
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect::<Vec<_>>()
        .join(" ")
}
