//! The `redkit-gateway` binary: flags and env vars, start-up log line, signal handling.

use clap::Parser;
use redkit_gateway::{Config, Gateway, Scripts};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// Serve the Upstash REST protocol in front of any Redis.
#[derive(Parser, Debug)]
#[command(name = "redkit-gateway", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "REDKIT_GATEWAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Redis URL (redis:// or rediss://, with credentials and database if needed).
    #[arg(
        long,
        env = "REDKIT_GATEWAY_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    redis_url: String,
    /// Bearer token clients must send. Prefer the env var: flags show in `ps`.
    #[arg(long, env = "REDKIT_GATEWAY_TOKEN", hide_env_values = true)]
    token: String,
    /// Largest request body in bytes [default: 1048576].
    #[arg(long, env = "REDKIT_GATEWAY_MAX_BODY")]
    max_body: Option<usize>,
    /// Most commands in one /pipeline or /multi-exec request [default: 10000].
    #[arg(long, env = "REDKIT_GATEWAY_MAX_COMMANDS")]
    max_commands: Option<usize>,
    /// Most request-body bytes held at once across all requests (more: 503) [default: 67108864].
    #[arg(long, env = "REDKIT_GATEWAY_MAX_INFLIGHT_BYTES")]
    max_inflight_bytes: Option<usize>,
    /// Most connections open at once (more: 503); keep it below `ulimit -n` [default: 512].
    #[arg(long, env = "REDKIT_GATEWAY_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// How long a client may take to send a request's headers, in ms; also how long an idle
    /// connection stays open [default: 10000].
    #[arg(long, env = "REDKIT_GATEWAY_HEADER_TIMEOUT_MS")]
    header_timeout_ms: Option<u64>,
    /// How long a client may take to send a request's body, in ms (then 408) [default: 30000].
    #[arg(long, env = "REDKIT_GATEWAY_BODY_TIMEOUT_MS")]
    body_timeout_ms: Option<u64>,
    /// After SIGTERM/SIGINT, how long requests in flight may take before the gateway drops
    /// them and exits, in ms [default: 10000].
    #[arg(long, env = "REDKIT_GATEWAY_SHUTDOWN_TIMEOUT_MS")]
    shutdown_timeout_ms: Option<u64>,
    /// Comma-separated commands to refuse (`CMD`, `CMD SUBCMD`, or `!CMD SUBCMD` to exempt
    /// one subcommand of a refused family); replaces the default list. An empty value
    /// denies nothing.
    #[arg(long, env = "REDKIT_GATEWAY_DENY", value_delimiter = ',')]
    deny: Option<Vec<String>>,
    /// Which Lua scripts may run: `any`, or `redkit` for only the scripts redkit's packages
    /// send (any other EVAL, EVALSHA, SCRIPT LOAD, FCALL is refused) [default: any].
    #[arg(long, env = "REDKIT_GATEWAY_SCRIPTS", value_parser = ["any", "redkit"])]
    scripts: Option<String>,
    /// How long to wait for Redis to answer, in ms (covers slow scripts) [default: 10000].
    #[arg(long, env = "REDKIT_GATEWAY_RESPONSE_TIMEOUT_MS")]
    response_timeout_ms: Option<u64>,
    /// How long a blocking command (BLPOP, XREAD BLOCK, ...) may block, in ms [default: 30000].
    #[arg(long, env = "REDKIT_GATEWAY_BLOCKING_TIMEOUT_MS")]
    blocking_timeout_ms: Option<u64>,
    /// How many blocking commands may run at once, each on its own connection [default: 64].
    #[arg(long, env = "REDKIT_GATEWAY_MAX_BLOCKING")]
    max_blocking: Option<usize>,
}

impl Args {
    fn config(self) -> Config {
        let mut config = Config::new(self.redis_url, self.token);
        config.max_body = self.max_body.unwrap_or(config.max_body);
        config.max_commands = self.max_commands.unwrap_or(config.max_commands);
        config.deny = self.deny.unwrap_or(config.deny);
        if self.scripts.as_deref() == Some("redkit") {
            config.scripts = Scripts::Redkit;
        }
        config.response_timeout = self
            .response_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(config.response_timeout);
        config.blocking_timeout = self
            .blocking_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(config.blocking_timeout);
        config.max_blocking = self.max_blocking.unwrap_or(config.max_blocking);
        config.max_inflight_bytes = self.max_inflight_bytes.unwrap_or(config.max_inflight_bytes);
        config.max_connections = self.max_connections.unwrap_or(config.max_connections);
        let ms = |flag: Option<u64>, default| flag.map(Duration::from_millis).unwrap_or(default);
        config.header_timeout = ms(self.header_timeout_ms, config.header_timeout);
        config.body_timeout = ms(self.body_timeout_ms, config.body_timeout);
        config.shutdown_timeout = ms(self.shutdown_timeout_ms, config.shutdown_timeout);
        config
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let listen = args.listen;
    let config = args.config();
    if config.token.is_empty() {
        eprintln!("redkit-gateway: the token must not be empty");
        return ExitCode::FAILURE;
    }
    if let Some(limit) = open_files_limit() {
        // Each connection, each blocking command's connection, and each over-the-cap
        // connection being refused (up to 64) holds a descriptor, plus a few of our own.
        let needed = config.max_connections + config.max_blocking + 64 + 16;
        if needed > limit {
            eprintln!(
                "redkit-gateway: warning: --max-connections {} and --max-blocking {} need about {needed} file descriptors, \
                 more than the limit of {limit} (ulimit -n): past it, new connections wait in the kernel until a slow one times out. \
                 Lower them or raise the limit.",
                config.max_connections, config.max_blocking
            );
        }
    }
    let gateway = match Gateway::connect(&config).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("redkit-gateway: cannot connect to Redis: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("redkit-gateway: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| listen.to_string());
    say(format_args!(
        "redkit-gateway {} listening on http://{local} -> redis {} (max body {} bytes, {} deny entries, {} scripts)",
        env!("CARGO_PKG_VERSION"),
        gateway.redis_addr(),
        config.max_body,
        config
            .deny
            .iter()
            .filter(|d| !d.trim().is_empty() && !d.trim().starts_with('!'))
            .count(),
        match config.scripts {
            Scripts::Any => "any",
            Scripts::Redkit => "only redkit's",
        },
    ));
    match gateway.serve(listener, shutdown_signal()).await {
        Ok(()) => {
            say(format_args!("redkit-gateway stopped"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("redkit-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A line on stdout. A closed stdout (a process manager gone, a pipe nobody reads) must not
/// turn a clean shutdown into a panic, as `println!` would.
fn say(line: std::fmt::Arguments) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// The soft limit on open files, where /proc says it (Linux).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what container runtimes send).
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate => {},
    }
    say(format_args!(
        "redkit-gateway: shutting down, finishing requests in flight"
    ));
}
