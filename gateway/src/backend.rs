//! The Redis side: one shared multiplexed connection for ordinary commands, and a fresh
//! connection per request for blocking ones.

use crate::config::Config;
use crate::error::{server_error_text, ApiError};
use crate::request::Command;
use axum::http::StatusCode;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncConnectionConfig, Client, Cmd, Pipeline, RedisError, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long opening a connection to Redis may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where commands run.
#[derive(Clone)]
pub struct Backend {
    client: Client,
    shared: ConnectionManager,
    response_timeout: Duration,
    blocking_timeout: Duration,
    blocking_slots: Arc<Semaphore>,
}

impl Backend {
    /// Open the shared connection (fails if Redis cannot be reached).
    pub async fn connect(config: &Config) -> Result<Backend, RedisError> {
        let client = Client::open(config.redis_url.as_str())?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(config.response_timeout));
        let shared = ConnectionManager::new_with_config(client.clone(), manager_config).await?;
        Ok(Backend {
            client,
            shared,
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
            let (mut conn, _slot) = self.blocking_connection().await?;
            pipe.query_async(&mut conn)
                .await
                .map_err(|e| ApiError::from_redis(e, self.blocking_timeout))
        } else {
            pipe.query_async(&mut self.shared.clone())
                .await
                .map_err(|e| ApiError::from_redis(e, self.response_timeout))
        }
    }

    /// Run commands in MULTI/EXEC. redis-rs writes MULTI, the commands and EXEC as one batch,
    /// so other requests on the shared connection cannot slip in between. A command Redis
    /// rejects while queueing aborts the whole transaction (EXECABORT, 400); one that fails
    /// while executing fails alone, as in Redis.
    pub async fn transaction(&self, cmds: &[Command]) -> Result<Vec<Value>, ApiError> {
        let mut pipe = pipeline(cmds);
        pipe.atomic();
        pipe.query_async(&mut self.shared.clone())
            .await
            .map_err(|e| ApiError::from_redis(e, self.response_timeout))
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
            .await
            .map_err(|e| ApiError::from_redis(e, CONNECT_TIMEOUT))?;
        Ok((conn, slot))
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
