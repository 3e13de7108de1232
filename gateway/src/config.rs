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

/// Default cap on request bytes held at once across all requests: 64 MiB.
pub const DEFAULT_MAX_INFLIGHT_BYTES: usize = 64 * 1024 * 1024;

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
    /// Most request-body bytes held at once across all requests, from the first byte read
    /// until the answer is written (more: 503). Bounds the memory a burst of large requests
    /// can take, as `max_body` bounds one.
    pub max_inflight_bytes: usize,
    /// How long a client may take to send a request's headers (and how long an idle
    /// keep-alive connection stays open); then the connection is closed.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body, once its headers are in (more: 408).
    pub body_timeout: Duration,
    /// Most connections open at once; one more is answered 503 and closed. With
    /// `max_blocking`, up to 64 refusals in progress and a few descriptors of its own, it
    /// must fit in the process's file limit (`ulimit -n`).
    pub max_connections: usize,
    /// After the shutdown signal, how long requests in flight may take before their
    /// connections are dropped and the gateway stops.
    pub shutdown_timeout: Duration,
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
            max_inflight_bytes: DEFAULT_MAX_INFLIGHT_BYTES,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            shutdown_timeout: Duration::from_secs(10),
            deny: DEFAULT_DENY.iter().map(|s| s.to_string()).collect(),
            scripts: Scripts::Any,
            response_timeout: Duration::from_secs(10),
            blocking_timeout: Duration::from_secs(30),
            max_blocking: 64,
        }
    }
}
