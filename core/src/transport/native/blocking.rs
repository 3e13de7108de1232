//! Connections of their own for blocking commands (BLPOP, XREAD BLOCK, ...): a command
//! that may wait on the server for seconds must never hold up the shared connection, and
//! must not be cut short by the per-command deadline. redis-rs makes these connections;
//! idle ones are kept for the next blocking command.

use std::sync::Mutex;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{AsyncConnectionConfig, RedisError};

use crate::error::{Error, Result};
use crate::value::{Cmd, Value};

/// Dedicated connections for blocking commands, made on first use.
pub struct BlockingPool {
    client: redis::Client,
    connect_timeout: Duration,
    idle: Mutex<Vec<MultiplexedConnection>>,
}

impl BlockingPool {
    /// A pool for `url`; no connection is made until a blocking command needs one.
    pub fn new(url: &str, connect_timeout: Duration) -> Result<Self> {
        let client =
            redis::Client::open(url).map_err(|e| Error::invalid(format!("bad url: {e}")))?;
        Ok(BlockingPool {
            client,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Run `cmd` on a connection of its own, with no response timeout.
    pub async fn send(&self, cmd: Cmd) -> Result<Value> {
        let mut conn = self.connection().await?;
        let result = conn
            .req_packed_command(&to_redis_cmd(&cmd))
            .await
            .map_err(convert);
        // A connection that failed may be broken: only healthy ones go back to the pool.
        if result.is_ok() {
            self.idle().push(conn);
        }
        result.and_then(|v| from_redis(v).into_result())
    }

    /// Drop the idle connections.
    pub fn close(&self) {
        self.idle().clear();
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<MultiplexedConnection>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn connection(&self) -> Result<MultiplexedConnection> {
        if let Some(conn) = self.idle().pop() {
            return Ok(conn);
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(None);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(convert)
    }
}

fn to_redis_cmd(cmd: &Cmd) -> redis::Cmd {
    let bytes = cmd.parts().map(<[u8]>::len).sum();
    let mut c = redis::Cmd::with_capacity(cmd.len(), bytes);
    for a in cmd.parts() {
        c.arg(a);
    }
    c
}

fn from_redis(v: redis::Value) -> Value {
    use redis::Value as R;
    match v {
        R::Nil => Value::Nil,
        R::Int(i) => Value::Int(i),
        R::BulkString(b) => Value::Bulk(b),
        R::Array(a) | R::Set(a) => Value::Array(a.into_iter().map(from_redis).collect()),
        R::Push { data, .. } => Value::Array(data.into_iter().map(from_redis).collect()),
        R::SimpleString(s) => Value::Status(s),
        R::Okay => Value::Status("OK".into()),
        R::Map(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| (from_redis(k), from_redis(v)))
                .collect(),
        ),
        R::Attribute { data, .. } => from_redis(*data),
        R::Double(d) => Value::Double(d),
        R::Boolean(b) => Value::Bool(b),
        R::VerbatimString { text, .. } => Value::Bulk(text.into_bytes()),
        R::BigNumber(n) => Value::Bulk(n),
        R::ServerError(e) => Value::Error(server_error_text(e.code(), e.details())),
        // redis::Value is non-exhaustive; anything newer is surfaced, not dropped.
        other => Value::Error(format!("unsupported reply: {other:?}")),
    }
}

fn server_error_text(code: &str, detail: Option<&str>) -> String {
    match detail {
        Some(d) => format!("{code} {d}"),
        None => code.to_string(),
    }
}

/// Map a redis-rs error to redkit's kinds.
fn convert(e: RedisError) -> Error {
    if e.is_timeout() {
        return Error::Timeout(e.to_string());
    }
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
        return Error::Connection(e.to_string());
    }
    match e.kind() {
        redis::ErrorKind::Server(_) | redis::ErrorKind::Extension => {
            let text = server_error_text(e.code().unwrap_or("ERR"), e.detail());
            crate::value::server_error(text)
        }
        redis::ErrorKind::AuthenticationFailed => Error::Connection(e.to_string()),
        redis::ErrorKind::InvalidClientConfig => Error::InvalidArgument(e.to_string()),
        redis::ErrorKind::Parse | redis::ErrorKind::UnexpectedReturnType => {
            Error::Decode(e.to_string())
        }
        _ => Error::Connection(e.to_string()),
    }
}
