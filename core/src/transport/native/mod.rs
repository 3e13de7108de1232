//! The native transport: redis-rs on tokio.
//!
//! One multiplexed connection ([`link`]) is shared by every clone of the client (never a
//! connection per request) and replaced when it breaks. On top of it each request gets
//! bounded retries with jittered exponential backoff, an overall deadline, and a bounded
//! "offline queue" (requests waiting for the reconnect). Blocking commands get dedicated
//! connections so they never stall the shared one.

mod link;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{AsyncConnectionConfig, RedisError};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::options::ConnectOptions;
use crate::rt;
use crate::transport::{BoxFuture, Transport};
use crate::value::{Cmd, Value};
use link::Link;

/// A [`Transport`] over redis-rs: standalone servers, `redis://` and `rediss://` URLs
/// with user, password and database index.
pub struct NativeTransport {
    client: redis::Client,
    link: Link,
    opts: ConnectOptions,
    /// Permits for requests waiting out a reconnect; bounds the offline queue.
    offline: Semaphore,
    /// Idle dedicated connections for blocking commands.
    blocking_idle: Mutex<Vec<MultiplexedConnection>>,
    closed: AtomicBool,
}

impl NativeTransport {
    /// Connect to `url`. Unless `opts.lazy_connect`, the first connection is made now and
    /// a server that cannot be reached is an error at once (fail fast).
    pub async fn connect(url: &str, opts: ConnectOptions) -> Result<Self> {
        opts.validate()?;
        install_crypto_provider();
        let client =
            redis::Client::open(url).map_err(|e| Error::invalid(format!("bad url: {e}")))?;
        // The response timeout bounds a request's first attempt (see `with_retries`).
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(opts.connect_timeout))
            .set_response_timeout(Some(opts.timeout));
        let link = if opts.lazy_connect {
            Link::lazy(client.clone(), config, opts.clone())
        } else {
            rt::timeout(opts.connect_timeout, "connect", async {
                Link::connect(client.clone(), config, opts.clone())
                    .await
                    .map_err(convert)
            })
            .await?
        };
        Ok(NativeTransport {
            client,
            link,
            offline: Semaphore::new(opts.offline_queue_max),
            opts,
            blocking_idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        })
    }

    fn ensure_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// Run `attempt` until it succeeds, fails for a reason a retry cannot fix, or the
    /// retries run out, all within the per-command deadline. `attempt(wait)`: whether it
    /// may wait for a reconnect under way (only a retry, holding a place in the offline
    /// queue, does).
    ///
    /// The first attempt runs without a timer of ours: redis-rs already bounds it with the
    /// response and connection timeouts (both set from the options), and a second timer
    /// per command costs throughput under concurrency. Retries, the rare path, run in a
    /// future of their own: inlined, their timers would more than double the size of
    /// every request's future, which is allocated and copied on each call.
    async fn with_retries<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T>
    where
        F: FnMut(bool) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.ensure_open()?;
        let deadline = Instant::now() + self.opts.timeout;
        match attempt(false).await {
            Err(e) if e.is_connection_trouble() && self.may_retry(0) => {
                Box::pin(self.retry(what, deadline, e, attempt)).await
            }
            other => other,
        }
    }

    /// The retries of [`Self::with_retries`], after the first attempt failed with `error`;
    /// each runs under what is left of the deadline.
    async fn retry<T, F, Fut>(
        &self,
        what: &str,
        deadline: Instant,
        mut error: Error,
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut(bool) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        // Waiting for the reconnect: hold a place in the bounded queue.
        let _place = self
            .offline
            .try_acquire()
            .map_err(|_| Error::Connection("offline queue is full while reconnecting".into()))?;
        let mut tries = 0u32;
        loop {
            // While a reconnect is under way, waiting for it is the pause.
            if !self.link.connecting() {
                let pause = self.opts.backoff(tries);
                if Instant::now() + pause >= deadline {
                    return Err(error);
                }
                rt::sleep(pause).await;
            }
            self.ensure_open()?;
            tries += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            match rt::timeout(left, what, attempt(true)).await {
                Err(e) if e.is_connection_trouble() && self.may_retry(tries) => error = e,
                other => return other,
            }
        }
    }

    fn may_retry(&self, tries: u32) -> bool {
        self.opts.offline_queue && tries < self.opts.retries
    }

    async fn blocking_connection(&self) -> Result<MultiplexedConnection> {
        if let Some(conn) = self.blocking_idle.lock().expect("pool lock").pop() {
            return Ok(conn);
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.opts.connect_timeout))
            .set_response_timeout(None);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(convert)
    }
}

impl Transport for NativeTransport {
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        let packed = to_redis_cmd(&cmd);
        Box::pin(async move {
            let packed = &packed;
            self.with_retries(cmd.name(), |wait| async move {
                self.link
                    .send(packed, wait)
                    .await
                    .map_err(convert)
                    .and_then(reply)
            })
            .await
        })
    }

    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<Vec<u8>>>> {
        let mut packed = redis::Cmd::with_capacity(2, 3 + key.len());
        packed.arg("GET").arg(key);
        Box::pin(async move {
            let packed = &packed;
            let reply = self
                .with_retries("GET", |wait| async move {
                    self.link
                        .send(packed, wait)
                        .await
                        .map_err(convert)
                        .and_then(reply)
                })
                .await?;
            reply.into_bytes()
        })
    }

    fn pipeline(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, Result<Vec<Value>>> {
        let mut pipe = redis::pipe();
        for cmd in &cmds {
            pipe.add_command(to_redis_cmd(cmd));
        }
        let count = cmds.len();
        Box::pin(async move {
            if count == 0 {
                return Ok(Vec::new());
            }
            let pipe = &pipe;
            self.with_retries("pipeline", |wait| async move {
                let replies = self
                    .link
                    .send_pipeline(pipe, count, wait)
                    .await
                    .map_err(convert)?;
                Ok(replies.into_iter().map(from_redis).collect())
            })
            .await
        })
    }

    fn send_blocking(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        Box::pin(async move {
            self.ensure_open()?;
            let mut conn = self.blocking_connection().await?;
            let result = conn
                .req_packed_command(&to_redis_cmd(&cmd))
                .await
                .map_err(convert);
            // A connection that failed may be broken: only healthy ones go back to the pool.
            if result.is_ok() {
                self.blocking_idle.lock().expect("pool lock").push(conn);
            }
            result.and_then(reply)
        })
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        self.closed.store(true, Ordering::Release);
        self.blocking_idle.lock().expect("pool lock").clear();
        Box::pin(async { Ok(()) })
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}

/// rustls needs one process-wide crypto provider for `rediss://`.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn to_redis_cmd(cmd: &Cmd) -> redis::Cmd {
    let parts = cmd.parts();
    // Sized up front: no reallocation while copying the arguments in.
    let bytes = parts.iter().map(Vec::len).sum();
    let mut c = redis::Cmd::with_capacity(parts.len(), bytes);
    for a in parts {
        c.arg(a.as_slice());
    }
    c
}

/// A single command's reply: an error reply becomes an `Err`.
fn reply(v: redis::Value) -> Result<Value> {
    from_redis(v).into_result()
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
