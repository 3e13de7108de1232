//! Lua scripts: one per atomic operation, compiled in, sent as EVALSHA with an EVAL
//! fallback when the server has not seen the script yet (NOSCRIPT).

use crate::error::{Error, Result};
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
        reply.map_err(|e| match e {
            Error::Server(msg) | Error::Script(msg) => self.script_error(msg),
            e => e,
        })
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

/// Convert anything argument-like into wire bytes (for building KEYS/ARGV lists).
pub fn arg(a: impl ToArg) -> Vec<u8> {
    a.to_arg()
}
