//! The Redis side: one shared multiplexed connection for ordinary commands, and a fresh
//! connection per request for blocking ones.
//!
//! Once a request finds Redis unreachable, the gateway knows it is down: every request gets
//! its 502 at once, and one background task tries to reconnect (with backoff) until a PING
//! gets through. Without this, each request would wait through redis-rs's own reconnection
//! attempts (~9 s), longer than an edge client waits for its answer.

use crate::config::Config;
use crate::error::{server_error_text, ApiError};
use crate::request::Command;
use axum::http::StatusCode;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncConnectionConfig, Client, Cmd, Pipeline, RedisError, Value};
use redkit::transport::backoff::{Backoff, Jitter};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long opening a connection to Redis may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connection attempts at start before giving up (with 100 ms, 200 ms, ... between them).
const START_ATTEMPTS: u32 = 7;

/// The longest wait between two reconnection attempts while Redis is down.
const PROBE_MAX_DELAY: Duration = Duration::from_secs(1);

/// Where commands run.
#[derive(Clone)]
pub struct Backend {
    client: Client,
    shared: Arc<Shared>,
    response_timeout: Duration,
    blocking_timeout: Duration,
    blocking_slots: Arc<Semaphore>,
}

/// The shared connection and whether Redis is known to be reachable.
struct Shared {
    manager: ConnectionManager,
    /// False from the first request that found Redis unreachable until a probe gets through.
    up: AtomicBool,
    /// Whether the background reconnection task runs (there is at most one).
    probing: AtomicBool,
}

impl Backend {
    /// Open the shared connection (fails if Redis cannot be reached within a few attempts).
    pub async fn connect(config: &Config) -> Result<Backend, RedisError> {
        let client = Client::open(config.redis_url.as_str())?;
        // One attempt per reconnection: the background probe does the retrying, so no
        // request ever waits through a series of attempts.
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(config.response_timeout))
            .set_number_of_retries(0);
        let mut delay = Duration::from_millis(100);
        let mut attempt = 1;
        let manager = loop {
            match ConnectionManager::new_with_config(client.clone(), manager_config.clone()).await {
                Ok(manager) => break manager,
                Err(e) if attempt < START_ATTEMPTS && unreachable(&e) => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(Backend {
            client,
            shared: Arc::new(Shared {
                manager,
                up: AtomicBool::new(true),
                probing: AtomicBool::new(false),
            }),
            response_timeout: config.response_timeout,
            blocking_timeout: config.blocking_timeout,
            blocking_slots: Arc::new(Semaphore::new(config.max_blocking)),
        })
    }

    /// The address of the Redis server, without credentials (for the start-up log line).
    pub fn redis_addr(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    /// Run one command. A Redis error reply is an `Err` (400); an error nested in a reply
    /// (a script returning an array with an error table in it) stays in its place. It runs
    /// as a pipeline of one because redis-rs fails a plain command on any nested error,
    /// which would lose the rest of the reply.
    pub async fn command(&self, cmd: &Command, blocking: bool) -> Result<Value, ApiError> {
        let results = self.pipeline(std::slice::from_ref(cmd), blocking).await?;
        match results.into_iter().next() {
            Some(Value::ServerError(e)) => Err(ApiError::bad_request(server_error_text(&e))),
            Some(value) => Ok(value),
            None => Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "ERR Redis sent no reply",
            )),
        }
    }

    /// Run commands as a pipeline: one result per command, a failed command's result being
    /// `Value::ServerError`.
    pub async fn pipeline(&self, cmds: &[Command], blocking: bool) -> Result<Vec<Value>, ApiError> {
        let pipe = pipeline(cmds);
        if blocking {
            self.check_up()?;
            let (mut conn, _slot) = self.blocking_connection().await?;
            let result = pipe.query_async(&mut conn).await;
            self.seen(result, self.blocking_timeout)
        } else {
            self.on_shared(&pipe).await
        }
    }

    /// Run commands in MULTI/EXEC. redis-rs writes MULTI, the commands and EXEC as one batch,
    /// so other requests on the shared connection cannot slip in between. A command Redis
    /// rejects while queueing aborts the whole transaction (EXECABORT, 400); one that fails
    /// while executing fails alone, as in Redis.
    pub async fn transaction(&self, cmds: &[Command]) -> Result<Vec<Value>, ApiError> {
        let mut pipe = pipeline(cmds);
        pipe.atomic();
        self.on_shared(&pipe).await
    }

    /// Run `pipe` on the shared connection, within the response timeout whatever redis-rs
    /// does meanwhile (reconnecting included).
    async fn on_shared(&self, pipe: &Pipeline) -> Result<Vec<Value>, ApiError> {
        self.check_up()?;
        let mut conn = self.shared.manager.clone();
        match tokio::time::timeout(self.response_timeout, pipe.query_async(&mut conn)).await {
            Ok(result) => self.seen(result, self.response_timeout),
            Err(_) => Err(ApiError::timeout(self.response_timeout)),
        }
    }

    /// 502 at once while Redis is known to be down.
    fn check_up(&self) -> Result<(), ApiError> {
        if self.shared.up.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "ERR Redis unavailable: reconnecting in the background",
            ))
        }
    }

    /// A command's outcome; one showing Redis unreachable marks it down and starts the
    /// background reconnection.
    fn seen<T>(&self, result: Result<T, RedisError>, timeout: Duration) -> Result<T, ApiError> {
        result.map_err(|e| {
            if unreachable(&e) {
                self.shared.up.store(false, Ordering::Release);
                if !self.shared.probing.swap(true, Ordering::AcqRel) {
                    tokio::spawn(probe(Arc::downgrade(&self.shared)));
                }
            }
            ApiError::from_redis(e, timeout)
        })
    }

    /// A connection of its own for a blocking command, so it never stalls the shared one;
    /// its response timeout bounds how long the command may block, and dropping it ends the
    /// command on the server. The permit caps how many such connections exist.
    async fn blocking_connection(
        &self,
    ) -> Result<
        (
            redis::aio::MultiplexedConnection,
            tokio::sync::OwnedSemaphorePermit,
        ),
        ApiError,
    > {
        let slot = self
            .blocking_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ERR too many blocking commands in flight, retry later",
                )
            })?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(self.blocking_timeout));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await;
        Ok((self.seen(conn, CONNECT_TIMEOUT)?, slot))
    }
}

/// Whether `e` says Redis cannot be reached (as opposed to a slow reply, which redis-rs
/// also reports as an I/O error, or an error reply).
fn unreachable(e: &RedisError) -> bool {
    !e.is_timeout() && (e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal())
}

/// Until Redis answers a PING: one connection attempt, then a wait by the client's one
/// backoff policy (from 50 ms, doubling up to [`PROBE_MAX_DELAY`], jittered). Ends early
/// when the gateway is gone.
async fn probe(shared: Weak<Shared>) {
    let policy = Backoff {
        base: Duration::from_millis(50),
        cap: PROBE_MAX_DELAY,
        jitter: Jitter::Equal,
    };
    let mut attempt = 0;
    loop {
        tokio::time::sleep(policy.delay(attempt)).await;
        attempt = attempt.saturating_add(1);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut conn = shared.manager.clone();
        let ping = redis::cmd("PING");
        let answered = tokio::time::timeout(CONNECT_TIMEOUT, ping.query_async::<()>(&mut conn));
        if let Ok(Ok(())) = answered.await {
            shared.up.store(true, Ordering::Release);
            shared.probing.store(false, Ordering::Release);
            return;
        }
    }
}

/// A pipeline that reports each command's error in its slot instead of failing as a whole.
fn pipeline(cmds: &[Command]) -> Pipeline {
    let mut pipe = redis::pipe();
    for cmd in cmds {
        let mut packed = Cmd::new();
        for arg in cmd {
            packed.arg(arg.as_slice());
        }
        pipe.add_command(packed);
    }
    pipe.ignore_errors();
    pipe
}
