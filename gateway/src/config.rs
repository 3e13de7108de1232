//! What the gateway is configured with. The binary fills it from flags and env vars; tests
//! build it directly.

use std::time::Duration;

/// Commands refused by default: they reconfigure, wipe, stop or replicate the server, or
/// reach other hosts, which no edge function should be able to do through a shared token.
/// An entry is a command (`FLUSHALL`) or a command and its subcommand (`CLIENT KILL`).
pub const DEFAULT_DENY: &[&str] = &[
    "ACL",
    "BGREWRITEAOF",
    "BGSAVE",
    "CLIENT KILL",
    "CLIENT PAUSE",
    "CLUSTER",
    "CONFIG",
    "DEBUG",
    "FAILOVER",
    "FLUSHALL",
    "FLUSHDB",
    "FUNCTION FLUSH",
    "MIGRATE",
    "MODULE",
    "REPLICAOF",
    "SAVE",
    "SCRIPT FLUSH",
    "SCRIPT KILL",
    "SHUTDOWN",
    "SLAVEOF",
    "SWAPDB",
];

/// Default request body limit: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Default cap on commands per `/pipeline` or `/multi-exec` request.
pub const DEFAULT_MAX_COMMANDS: usize = 10_000;

/// Everything the gateway needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `redis://` or `rediss://` URL of the Redis behind the gateway.
    pub redis_url: String,
    /// The bearer token every request must carry. If empty, every request is refused.
    pub token: String,
    /// Largest accepted request body, in bytes.
    pub max_body: usize,
    /// Most commands in one `/pipeline` or `/multi-exec` request (more: 413).
    pub max_commands: usize,
    /// Refused commands (`CMD` or `CMD SUBCMD`, any case).
    pub deny: Vec<String>,
    /// How long to wait for Redis to answer a command on the shared connection. Long enough
    /// for slow scripts (EVAL): redis-rs's own 500 ms default is not.
    pub response_timeout: Duration,
    /// How long a blocking command (BLPOP, XREAD BLOCK, WAIT, ...) may wait on its own
    /// connection before the gateway gives up and answers 504.
    pub blocking_timeout: Duration,
    /// How many blocking commands may be in flight at once (each holds a connection).
    pub max_blocking: usize,
}

impl Config {
    /// A configuration with the defaults for everything but the Redis URL and the token.
    pub fn new(redis_url: impl Into<String>, token: impl Into<String>) -> Config {
        Config {
            redis_url: redis_url.into(),
            token: token.into(),
            max_body: DEFAULT_MAX_BODY,
            max_commands: DEFAULT_MAX_COMMANDS,
            deny: DEFAULT_DENY.iter().map(|s| s.to_string()).collect(),
            response_timeout: Duration::from_secs(10),
            blocking_timeout: Duration::from_secs(30),
            max_blocking: 64,
        }
    }
}
