//! Which commands the gateway runs, and where.

use crate::error::ApiError;
use crate::request::Command;
use axum::http::StatusCode;
use std::collections::HashSet;

/// Commands that would change the state of the one connection every request shares (a
/// MULTI left open, a SELECTed database, a subscription, a replication stream), so they are
/// refused whatever the deny list says. Transactions go through `/multi-exec` instead.
pub const CONNECTION_STATE: &[&str] = &[
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

/// The deny list, normalised to upper case, and which scripts may run.
#[derive(Debug, Clone)]
pub struct Policy {
    deny: HashSet<String>,
    exempt: HashSet<String>,
    scripts: Option<RedkitScripts>,
}

/// The scripts redkit's packages send, for [`Scripts::Redkit`].
#[derive(Debug, Clone)]
struct RedkitScripts {
    shas: HashSet<String>,
    bodies: HashSet<&'static [u8]>,
}

impl Policy {
    /// A policy refusing `deny` (entries `CMD`, `CMD SUBCMD` or the exemption `!CMD SUBCMD`,
    /// any case and spacing) and running the `scripts` given.
    pub fn new(deny: &[String], scripts: Scripts) -> Policy {
        let (exempt, deny): (Vec<String>, Vec<String>) = deny
            .iter()
            .map(|d| normalise(d))
            .filter(|d| !d.is_empty())
            .partition(|d| d.starts_with('!'));
        let exempt = exempt
            .iter()
            .map(|e| normalise(&e[1..]))
            .filter(|e| !e.is_empty())
            .collect();
        let scripts = match scripts {
            Scripts::Any => None,
            Scripts::Redkit => {
                let all = redkit::script::all();
                Some(RedkitScripts {
                    shas: all.iter().map(|s| s.sha().to_ascii_lowercase()).collect(),
                    bodies: all.iter().map(|s| s.source().as_bytes()).collect(),
                })
            }
        };
        Policy {
            deny: deny.into_iter().collect(),
            exempt,
            scripts,
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
        // An exemption (`!CLIENT ID`) lifts a family's denial (`CLIENT`) for one subcommand.
        if !names().any(|n| self.exempt.contains(n.as_str())) {
            if let Some(n) = names().find(|n| self.deny.contains(n.as_str())) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("ERR {n} is denied by this gateway"),
                ));
            }
        }
        if let Some(scripts) = &self.scripts {
            scripts.check(&name, cmd)?;
        }
        let blocking = BLOCKING.contains(&name.as_str())
            || (matches!(name.as_str(), "XREAD" | "XREADGROUP")
                && cmd.iter().any(|a| a.eq_ignore_ascii_case(b"BLOCK")));
        Ok(blocking)
    }
}

impl RedkitScripts {
    /// Let through only redkit's scripts: EVALSHA of their SHA-1s, EVAL and SCRIPT LOAD of
    /// their exact bodies. Functions are Lua the client chose too, so FCALL and FUNCTION
    /// LOAD are refused.
    fn check(&self, name: &str, cmd: &Command) -> Result<(), ApiError> {
        let arg = cmd.get(1).map(Vec::as_slice);
        let allowed = match name {
            "EVAL" | "EVAL_RO" => arg.is_some_and(|body| self.bodies.contains(body)),
            "EVALSHA" | "EVALSHA_RO" => arg.is_some_and(|sha| {
                self.shas
                    .contains(&String::from_utf8_lossy(sha).to_ascii_lowercase())
            }),
            "SCRIPT" if arg.is_some_and(|sub| sub.eq_ignore_ascii_case(b"LOAD")) => cmd
                .get(2)
                .is_some_and(|body| self.bodies.contains(body.as_slice())),
            "FCALL" | "FCALL_RO" => false,
            "FUNCTION" => !arg.is_some_and(|sub| sub.eq_ignore_ascii_case(b"LOAD")),
            _ => true,
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("ERR {name} of a script that is not one of redkit's is refused by this gateway (--scripts redkit)"),
            ))
        }
    }
}

/// Which Lua scripts the gateway lets through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scripts {
    /// Any script (`EVAL`, `EVALSHA`, `SCRIPT LOAD`, `FCALL`): the deny list does not see the
    /// commands a script calls, so a token holder can run any command from Lua.
    #[default]
    Any,
    /// Only the scripts redkit's packages send ([`redkit::script::all`]): `EVALSHA` of their
    /// SHA-1s, `EVAL` and `SCRIPT LOAD` of their exact bodies; any other script, and every
    /// function (`FCALL`, `FUNCTION LOAD`), is refused with 403.
    Redkit,
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
