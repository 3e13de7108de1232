//! Lua scripts: one per atomic operation, compiled in, sent as EVALSHA with an EVAL
//! fallback when the server has not seen the script yet (NOSCRIPT).

use std::time::Duration;

use crate::error::{Error, Result};
use crate::rt;
use crate::transport::Transport;
use crate::value::{Cmd, ToArg, Value};

/// A Lua script and its SHA1, computed once.
#[derive(Debug)]
pub struct Script {
    name: &'static str,
    source: &'static str,
    sha: String,
}

impl Script {
    /// Wrap a script's source; `name` appears in error messages.
    pub fn new(name: &'static str, source: &'static str) -> Self {
        Script {
            name,
            source,
            sha: sha1_smol::Sha1::from(source).digest().to_string(),
        }
    }

    /// The script's SHA1 as the server names it (what EVALSHA sends).
    pub fn sha(&self) -> &str {
        &self.sha
    }

    /// The Lua source.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The name given at construction.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Run the script: EVALSHA first, EVAL when the server answers NOSCRIPT.
    pub async fn run(
        &self,
        transport: &dyn Transport,
        keys: &[Vec<u8>],
        args: &[Vec<u8>],
    ) -> Result<Value> {
        self.run_with(transport, |cmd| {
            cmd.arg(keys.len()).args(keys.iter()).args(args.iter())
        })
        .await
    }

    /// [`Script::run`] with `fill` appending the key count, the keys and the arguments to
    /// the command: the caller writes them straight into it, and again only when the
    /// server answers NOSCRIPT.
    pub async fn run_with(
        &self,
        transport: &dyn Transport,
        fill: impl Fn(Cmd) -> Cmd,
    ) -> Result<Value> {
        let reply = match transport
            .send(fill(Cmd::new("EVALSHA").arg(&self.sha)))
            .await
        {
            Err(Error::Server(msg)) if msg.starts_with("NOSCRIPT") => {
                transport
                    .send(fill(Cmd::new("EVAL").arg(self.source)))
                    .await
            }
            other => other,
        };
        reply.map_err(|e| self.reply_error(e))
    }

    /// [`Script::run_with`] that fails with [`Error::Timeout`] once `within` has passed,
    /// the EVAL after a NOSCRIPT included. Each command carries what is left of `within`
    /// ([`Transport::send_within`]), so a transport with request deadlines races no timer
    /// against a healthy call (a rate-limit decision).
    pub async fn run_within(
        &self,
        transport: &dyn Transport,
        within: Duration,
        fill: impl Fn(Cmd) -> Cmd,
    ) -> Result<Value> {
        let started_ms = rt::now_ms();
        let evalsha = fill(Cmd::new("EVALSHA").arg(&self.sha));
        let reply = match transport.send_within(evalsha, within).await {
            Err(Error::Server(msg)) if msg.starts_with("NOSCRIPT") => {
                let spent = Duration::from_millis(rt::now_ms().saturating_sub(started_ms));
                let eval = fill(Cmd::new("EVAL").arg(self.source));
                transport
                    .send_within(eval, within.saturating_sub(spent))
                    .await
            }
            other => other,
        };
        reply.map_err(|e| self.reply_error(e))
    }

    /// The error a script's failed call reports: an error reply made typed.
    fn reply_error(&self, e: Error) -> Error {
        match e {
            Error::Server(msg) | Error::Script(msg) => self.script_error(msg),
            e => e,
        }
    }

    fn script_error(&self, msg: String) -> Error {
        // Scripts signal bad input with `redis.error_reply('INVALID ...')`.
        if let Some(rest) = msg.strip_prefix("INVALID ") {
            return Error::InvalidArgument(rest.to_string());
        }
        // The server refusing the data (a wrong type, or a write past maxmemory under
        // noeviction) is the same server error it is outside a script.
        if msg.starts_with("WRONGTYPE") || msg.starts_with("OOM") {
            return Error::Server(msg);
        }
        Error::Script(format!("{}: {msg}", self.name))
    }
}

/// Every script the core sends, each once: all the Lua a redkit client ever runs, so a gateway
/// in front of redkit clients can allow exactly these and refuse any other script
/// (`redkit-gateway --scripts redkit`). A pattern that adds a script lists it here; a test
/// checks that every file in `lua/` is part of a listed script.
pub fn all() -> Vec<&'static Script> {
    let mut all = crate::cache::scripts();
    all.extend(crate::ratelimit::scripts::all());
    all.extend(crate::queue::scripts::all());
    all
}

/// Convert anything argument-like into wire bytes (for building KEYS/ARGV lists).
pub fn arg(a: impl ToArg) -> Vec<u8> {
    a.to_arg()
}

#[cfg(test)]
mod tests {
    use super::all;

    /// A script missing from [`all`] would be refused by a gateway in `--scripts redkit`
    /// mode: every Lua file must be part of a listed script (a rate-limit decision file is
    /// split at the line its algorithm replaces).
    #[test]
    fn every_lua_file_is_part_of_a_listed_script() {
        let scripts = all();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/lua");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "lua") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("-- ALGORITHM\n") {
                // Lines marked for some scripts only (ratelimit/scripts.rs): the part
                // without them is in a script, and so is each of them, unmarked.
                let plain = crate::ratelimit::scripts::unmark(part, &[]);
                let marked = part.lines().filter_map(|l| {
                    let mark = crate::ratelimit::scripts::MARKS
                        .iter()
                        .find(|m| l.starts_with(*m));
                    mark.map(|m| &l[m.len()..])
                });
                for piece in std::iter::once(plain.as_str()).chain(marked) {
                    assert!(
                        scripts.iter().any(|s| s.source().contains(piece)),
                        "{} is in no script of redkit::script::all()",
                        path.display()
                    );
                }
            }
        }
        let mut shas: Vec<&str> = scripts.iter().map(|s| s.sha()).collect();
        shas.sort_unstable();
        shas.dedup();
        assert_eq!(shas.len(), scripts.len(), "a script is listed twice");
    }
}
