//! What the gateway is configured with. The binary fills it from flags and env vars; tests
//! build it directly.

pub use crate::policy::Scripts;
use std::time::Duration;

/// Commands refused by default: they reconfigure, wipe, stop or replicate the server, reach
/// other hosts, or change the one connection every request shares, which no edge function
/// should be able to do through a shared token. An entry is a command (`FLUSHALL`), which
/// refuses it with every subcommand, or a command and its subcommand (`SLOWLOG RESET`); an
/// entry `!CMD SUBCMD` exempts one harmless subcommand of a refused family. Families are
/// refused whole (`CLIENT`, `FUNCTION`, `SCRIPT`) so that a subcommand Redis adds later is
/// refused until someone decides it is harmless.
pub const DEFAULT_DENY: &[&str] = &[
    "ACL",
    "BGREWRITEAOF",
    "BGSAVE",
    "CLIENT",
    "!CLIENT GETNAME",
    "!CLIENT ID",
    "!CLIENT INFO",
    "CLUSTER",
    "CONFIG",
    "DEBUG",
    "FAILOVER",
    "FLUSHALL",
    "FLUSHDB",
    "FUNCTION",
    "!FUNCTION LIST",
    "!FUNCTION STATS",
    "LATENCY RESET",
    "MIGRATE",
    "MODULE",
    "PFDEBUG",
    "PFSELFTEST",
    "REPLICAOF",
    "SAVE",
    "SCRIPT",
    "!SCRIPT EXISTS",
    "!SCRIPT LOAD",
    "SHUTDOWN",
    "SLAVEOF",
    "SLOWLOG RESET",
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
    /// Refused commands (`CMD`, `CMD SUBCMD`, or the exemption `!CMD SUBCMD`; any case).
    pub deny: Vec<String>,
    /// Which Lua scripts may run.
    pub scripts: Scripts,
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
            scripts: Scripts::Any,
            response_timeout: Duration::from_secs(10),
            blocking_timeout: Duration::from_secs(30),
            max_blocking: 64,
        }
    }
}
